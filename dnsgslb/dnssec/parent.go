package dnssec

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ParentDS asks server (host:port, or a host for port 53), an
// authoritative server of zone's parent zone, for zone's DS RRset, over
// UDP and, for a truncated reply, TCP, without recursion. The reply is
// not validated: it says what that one server serves. A reply that is
// not an authoritative NOERROR (a server that does not serve the parent
// zone), or one from the zone itself, is an error.
func ParentDS(ctx context.Context, server, zone string) ([]*dns.DS, error) {
	zone = dns.CanonicalName(zone)
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeDS)
	m.RecursionDesired = false
	m.SetEdns0(4096, true)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		return nil, fmt.Errorf("parent server %q: DS %s: %w", server, zone, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return nil, fmt.Errorf("parent server %q: DS %s: rcode %s, authoritative %v: want an authoritative NOERROR from a server of the parent zone", server, zone, dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	var out []*dns.DS
	for _, rr := range r.Answer {
		if ds, ok := rr.(*dns.DS); ok && dns.CanonicalName(ds.Hdr.Name) == zone {
			out = append(out, ds)
		}
	}
	for _, rr := range r.Ns {
		// No DS, and the zone's own SOA: the server answered as a
		// server of the zone, which holds no DS for itself.
		if soa, ok := rr.(*dns.SOA); ok && len(out) == 0 && dns.CanonicalName(soa.Hdr.Name) == zone {
			return nil, fmt.Errorf("parent server %q: DS %s: answered from the zone itself (its SOA), as a server of %s, not of its parent: give a server of the parent zone", server, zone, zone)
		}
	}
	return out, nil
}

// ParentDSCheck is how the DS RRset a parent serves compares with what
// it should hold at a time (Key.DSStateAt).
type ParentDSCheck struct {
	// Stale are the DS the parent serves but should have removed, with
	// their keys: those of revoked keys, made before the revocation (it
	// matches no DNSKEY served) or from the revoked key (OfRevoked), and
	// those of old keys of a rollover.
	Stale []StaleDS
	// Missing are the keys whose DS the parent should serve and does
	// not.
	Missing []*Key
	// Unknown are the DS the parent serves that are no key's of the zone.
	Unknown []*dns.DS
	// Validates says whether a DS served is that of an active key that
	// signs the DNSKEY RRset: without one, a validating resolver finds the
	// zone bogus (or, when the parent serves no DS, unsigned).
	Validates bool
	// ThroughRevoked says whether a DS served is that of a revoked key's
	// DNSKEY as served, with the REVOKE flag, while the key is published:
	// the key signs the DNSKEY RRset, and some validating resolvers
	// (unbound) reach the zone through that DS, though RFC 5011 (section
	// 2.1) uses a revoked key for nothing but its revocation; none do once
	// the key is deleted.
	ThroughRevoked bool
}

// StaleDS is a DS a parent serves and should not, and the key it is of.
type StaleDS struct {
	Key *Key
	// DS is the DS served, as the key makes it (with the key file's TTL).
	DS *dns.DS
	// OfRevoked says the DS is of the key's DNSKEY with the REVOKE flag
	// (and so its tag), as made from a key file dnssec-revoke wrote or
	// from the revoked key as served, not of the key as given to the
	// parent before (see DS). No such DS is ever one to hold: before the
	// revocation it matches no DNSKEY served, and after it the revoked
	// key, which signs the DNSKEY RRset while published, leads resolvers
	// to the zone only until it is deleted.
	OfRevoked bool
}

// OK says whether the parent serves the DS RRset it should.
func (c ParentDSCheck) OK() bool {
	return len(c.Stale) == 0 && len(c.Missing) == 0 && len(c.Unknown) == 0
}

// CheckParentDS compares served, the DS RRset the parent serves for the
// zone of keys, with the DS of keys at now.
func CheckParentDS(keys []*Key, served []*dns.DS, now time.Time) ParentDSCheck {
	var c ParentDSCheck
	matched := map[*dns.DS]bool{}
	for _, k := range keys {
		var own []*dns.DS
		for _, ds := range served {
			if revoked := k.revokedDS(ds); revoked != nil {
				matched[ds] = true
				c.Stale = append(c.Stale, StaleDS{Key: k, DS: revoked, OfRevoked: true})
				if k.Published(now) && k.Revoked(now) {
					c.ThroughRevoked = true
				}
				continue
			}
			if mine := k.ownDS(ds); mine != nil {
				matched[ds] = true
				own = append(own, mine)
				if k.Active(now) && k.DNSKEY.Flags&dns.SEP != 0 {
					c.Validates = true
				}
			}
		}
		switch state := k.DSStateAt(now); {
		case state == DSRemove:
			for _, ds := range own {
				c.Stale = append(c.Stale, StaleDS{Key: k, DS: ds})
			}
		case state == DSHold && len(own) == 0:
			c.Missing = append(c.Missing, k)
		}
	}
	for _, ds := range served {
		if !matched[ds] {
			c.Unknown = append(c.Unknown, ds)
		}
	}
	return c
}

// ownDS is the key's DS that ds is, of the key without the REVOKE flag
// as given to a parent (see DS), in ds's digest type; nil when ds is not
// that.
func (k *Key) ownDS(ds *dns.DS) *dns.DS {
	c := *k.DNSKEY
	c.Flags &^= dns.REVOKE
	return sameDS(&c, ds)
}

// revokedDS is the DS of the key's DNSKEY with the REVOKE flag that ds
// is, in ds's digest type; nil when ds is not that.
func (k *Key) revokedDS(ds *dns.DS) *dns.DS {
	c := *k.DNSKEY
	c.Flags |= dns.REVOKE
	return sameDS(&c, ds)
}

// sameDS is key's DS in ds's digest type when it is ds, nil otherwise.
func sameDS(key *dns.DNSKEY, ds *dns.DS) *dns.DS {
	if ds.Algorithm != key.Algorithm || ds.KeyTag != key.KeyTag() {
		return nil
	}
	own := key.ToDS(ds.DigestType)
	if own == nil || !strings.EqualFold(own.Digest, ds.Digest) {
		return nil
	}
	return own
}
