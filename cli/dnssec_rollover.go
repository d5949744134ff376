package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
)

// rolloverFlags are the durations a rollover's timing is computed from.
func rolloverFlags(fs *pflag.FlagSet, ttls *dnssec.RolloverTTLs, ds bool) {
	fs.DurationVar(&ttls.DNSKEY, "dnskey-ttl", 5*time.Minute, "TTL of the zone's DNSKEY RRset: the GslbZone's default_ttl")
	fs.DurationVar(&ttls.Max, "max-ttl", 24*time.Hour, "largest TTL of any record in the zone, the SOA minimum (negative answers) included")
	fs.DurationVar(&ttls.Propagation, "propagation", time.Hour, "how long a change takes to reach every DNS server of the zone (key files copied, clock skew) and, for a DS, the parent's servers")
	if ds {
		fs.DurationVar(&ttls.DS, "ds-ttl", 24*time.Hour, "TTL of the zone's DS RRset in the parent zone (dig DS ZONE shows it)")
	}
}

const rolloverLong = `Roll a zone's keys over without a validation failure at any resolver,
from timings based on TTLs (RFC 6781, RFC 7583). The rollover is written
as timing in the key files (Publish, Activate, Inactive, Delete,
SyncPublish, SyncDelete); each DNS server follows the files to the second.
After each command, copy the key directory to every DNS server of the zone
and send them SIGHUP (or let them read it within a minute), well within
--propagation.

ZSK (pre-publish), one command: the new ZSK is published now and signs
after --propagation + --dnskey-ttl; the old one stops signing then and
leaves the DNSKEY RRset after --propagation + --max-ttl more.

KSK or CSK (double DS), four steps:
  1. anyctl dnssec rollover ZONE --role ksk   publishes the new key (it signs
     nothing yet) and prints its DS.
  2. Add that DS at the parent, beside the old one.
  3. Once the parent's servers serve both DS records:
     anyctl dnssec checkds ZONE published --ds-ttl TTL
     schedules the switch (after --propagation + --ds-ttl, when no resolver
     holds the old DS RRset alone) and the old key's retirement, and prints
     when the old DS may leave the parent.
  4. At that time, remove the old DS at the parent (anyctl dnssec ds ZONE
     says which DS records the parent should hold, and when that changes).`

func newDNSSECRolloverCommand(g *globals) *cobra.Command {
	var dir, role string
	var ttls dnssec.RolloverTTLs
	cmd := &cobra.Command{
		Use:   "rollover ZONE --role zsk|ksk|csk",
		Short: "Start a key rollover: a new key and the timing of the switch",
		Long:  rolloverLong,
		Example: `  anyctl dnssec rollover gslb.example.com --dir /etc/anyctl/dnssec --role zsk --dnskey-ttl 5m --max-ttl 1h
  anyctl dnssec rollover gslb.example.com --dir /etc/anyctl/dnssec --role csk --dnskey-ttl 5m --max-ttl 1h
  anyctl dnssec checkds gslb.example.com published --dir /etc/anyctl/dnssec --dnskey-ttl 5m --max-ttl 1h --ds-ttl 1d`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			r, err := dnssec.ParseRole(role)
			if err != nil || role == "" {
				return UsageErrorf("--role %q: want zsk, ksk or csk", role)
			}
			if err := ttls.Check(); err != nil {
				return UsageErrorf("--%w", err)
			}
			keys, err := loadKeyDir(dir)
			if err != nil {
				return err
			}
			zone := dns.CanonicalName(args[0])
			ro, err := dnssec.StartRollover(dir, zone, keys[zone], r, ttls, time.Now())
			if err != nil {
				return err
			}
			printRollover(g.stdout, ro)
			if r == dnssec.ZSK {
				return nil
			}
			ds := ro.Successor.DS()
			fmt.Fprintf(g.stdout, "add this DS record at the parent zone now, beside the old one:\n%s\n", ds)
			fmt.Fprintf(g.stdout, "(in a parent GslbZone: a static record of type RECORD_TYPE_DS at the delegation, value \"%d %d %d %s\")\n", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
			fmt.Fprintf(g.stdout, "once the parent's servers serve it, run:\n  anyctl dnssec checkds %s published --dir %s --key %d --ds-ttl TTL (and the --dnskey-ttl, --max-ttl and --propagation given here)\n", zone, dir, ro.Successor.Tag())
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "key directory (required)")
	cmd.Flags().StringVar(&role, "role", "", "which key to roll: zsk, ksk or csk (required)")
	rolloverFlags(cmd.Flags(), &ttls, false)
	return cmd
}

func newDNSSECCheckDSCommand(g *globals) *cobra.Command {
	var dir string
	var tag uint16
	var ttls dnssec.RolloverTTLs
	cmd := &cobra.Command{
		Use:   "checkds ZONE published",
		Short: "Say the parent serves the new DS of a KSK or CSK rollover; schedule the switch",
		Long: `Tell a KSK or CSK rollover (anyctl dnssec rollover) that the parent zone's
servers now serve the new key's DS beside the old one. The new key then
signs after --propagation + --ds-ttl (no resolver holds the old DS RRset
alone any more) and not before --propagation + --dnskey-ttl after its
publication; the old key stops signing then, its DS may leave the parent
--propagation + --dnskey-ttl later, and it leaves the zone once no cache
needs it. Run it only once the parent serves the new DS: switching
earlier fails validation at resolvers holding the old DS.

` + rolloverLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 || args[1] != "published" {
				return UsageErrorf("want ZONE published, got %q", args)
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if err := ttls.Check(); err != nil {
				return UsageErrorf("--%w", err)
			}
			keys, err := loadKeyDir(dir)
			if err != nil {
				return err
			}
			zone := dns.CanonicalName(args[0])
			ro, err := dnssec.DSPublished(zone, keys[zone], tag, ttls, time.Now())
			if err != nil {
				return err
			}
			printRollover(g.stdout, ro)
			for _, k := range ro.Predecessor {
				fmt.Fprintf(g.stdout, "remove this DS record from the parent zone at or after %s:\n%s\n", k.SyncDelete.Format(time.RFC3339), k.DS())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "key directory (required)")
	cmd.Flags().Uint16Var(&tag, "key", 0, "key tag of the new key, when more than one waits for its DS")
	rolloverFlags(cmd.Flags(), &ttls, true)
	return cmd
}

// printRollover says what a rollover step scheduled, one line a key.
func printRollover(w io.Writer, r *dnssec.Rollover) {
	now := time.Now()
	fmt.Fprintf(w, "new %s\n", describeKey(r.Successor, now))
	for _, k := range r.Predecessor {
		fmt.Fprintf(w, "old %s\n", describeKey(k, now))
	}
}

// dsReport says which DS records the parent zone should hold at now and
// which to remove, and when that changes next.
func dsReport(w io.Writer, keys []*dnssec.Key, now time.Time) (held int) {
	var notes []string
	for _, k := range keys {
		switch k.DSStateAt(now) {
		case dnssec.DSHold:
			fmt.Fprintln(w, k.DS())
			held++
			if !k.SyncDelete.IsZero() {
				notes = append(notes, fmt.Sprintf("; DS %d (old key) leaves the parent at or after %s", k.Tag(), k.SyncDelete.Format(time.RFC3339)))
			} else if !k.Active(now) && k.Activate.IsZero() {
				notes = append(notes, fmt.Sprintf("; DS %d is the new key's: once the parent serves it, run anyctl dnssec checkds %s published --key %d (with --dir and the TTL flags of the rollover)", k.Tag(), k.Zone, k.Tag()))
			}
		case dnssec.DSRemove:
			if k.Revoked(now) && k.Published(now) {
				since := "by its file"
				if !k.Revoke.IsZero() {
					since = "since " + k.Revoke.Format(time.RFC3339)
				}
				ds := k.DS()
				notes = append(notes, fmt.Sprintf("; remove from the parent (key %d, revoked %s, served as key %d with the REVOKE flag): %s", ds.KeyTag, since, k.TagAt(now), ds))
			} else if k.Published(now) || now.Sub(k.Delete) < 7*24*time.Hour {
				notes = append(notes, fmt.Sprintf("; remove from the parent (old key %d, since %s): %s", k.Tag(), dsRemoveSince(k).Format(time.RFC3339), k.DS()))
			}
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	return held
}

func dsRemoveSince(k *dnssec.Key) time.Time {
	if !k.SyncDelete.IsZero() && (k.Delete.IsZero() || k.SyncDelete.Before(k.Delete)) {
		return k.SyncDelete
	}
	return k.Delete
}
