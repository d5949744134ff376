package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
)

// parentDSReport asks each of servers, authoritative servers of zone's
// parent zone, for zone's DS RRset and says, as comments, how it differs
// from the one the parent should hold at now (dsReport): a DS still
// served that should have left (a revoked key's, made before the
// revocation or from the revoked key, an old key's), one the parent
// lacks, one that is no key's in dir, and whether any DS served leads a
// validating resolver to a key that signs the DNSKEY RRset. It returns
// an error naming the servers whose DS RRset differs.
func parentDSReport(ctx context.Context, w io.Writer, servers []string, zone, dir string, keys []*dnssec.Key, now time.Time) error {
	var differ []string
	for _, server := range servers {
		served, err := dnssec.ParentDS(ctx, server, zone)
		if err != nil {
			return fmt.Errorf("--parent: %w", err)
		}
		c := dnssec.CheckParentDS(keys, served, now)
		for _, s := range c.Stale {
			k, why := s.Key, "old key"
			switch {
			case k.Revoked(now):
				why = fmt.Sprintf("revoked, served as key %d with the REVOKE flag", k.TagAt(now))
				switch {
				case s.OfRevoked && k.Published(now):
					why += "; this DS is of the revoked DNSKEY, which some validating resolvers accept until the key is deleted and others never"
				case s.OfRevoked:
					why += "; this DS is of the revoked DNSKEY"
				}
			case s.OfRevoked:
				why = fmt.Sprintf("not revoked; this DS is of its DNSKEY with the REVOKE flag, as key %d, which the zone does not serve", s.DS.KeyTag)
			}
			fmt.Fprintf(w, "; parent %s still serves the DS of key %d (%s): remove it: %s\n", server, k.DS().KeyTag, why, s.DS)
		}
		for _, k := range c.Missing {
			fmt.Fprintf(w, "; parent %s does not serve the DS of key %d: add it: %s\n", server, k.DS().KeyTag, k.DS())
		}
		for _, ds := range c.Unknown {
			fmt.Fprintf(w, "; parent %s serves a DS that is no key's in %s: remove it: %s\n", server, dir, ds)
		}
		switch {
		case len(served) == 0:
			fmt.Fprintf(w, "; parent %s serves no DS for %s: validating resolvers take the zone as unsigned\n", server, zone)
		case !c.Validates && c.ThroughRevoked:
			fmt.Fprintf(w, "; parent %s: only the revoked key's own DS leads to a key signing the DNSKEY RRset: validating resolvers that use no revoked key (RFC 5011) fail the zone (SERVFAIL), and all do once the key is deleted\n", server)
		case !c.Validates:
			fmt.Fprintf(w, "; parent %s: none of its DS records is that of a key signing the DNSKEY RRset: validating resolvers fail the zone (SERVFAIL)\n", server)
		case c.OK():
			fmt.Fprintf(w, "; parent %s serves the DS RRset above\n", server)
		}
		if !c.OK() {
			differ = append(differ, server)
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("zone %q: the DS RRset served by parent %s is not the one above: change it at the parent as the comments say", zone, strings.Join(differ, ", "))
	}
	return nil
}
