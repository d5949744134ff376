package dnssec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Defaults of a Signer's timing.
const (
	// DefaultValidity is how long a signature is valid after it is made.
	DefaultValidity = 14 * 24 * time.Hour
	// DefaultRefresh is how long before its expiry a signature is made
	// again: a resolver that cached an answer at the last moment still
	// validates it for this long.
	DefaultRefresh = 7 * 24 * time.Hour
	// Backdate is how far before now a signature's inception is set, for
	// validators whose clocks run behind.
	Backdate = time.Hour
)

// Signer signs a zone's RRsets with its active keys.
type Signer struct {
	Zone     string
	Keys     []*Key
	Validity time.Duration
	Refresh  time.Duration
}

// NewSigner checks that zone has keys that sign at now, and returns its
// signer with the default timing. A revoked key signs the DNSKEY RRset
// but is not a key that signs the zone.
func NewSigner(zone string, keys []*Key, now time.Time) (*Signer, error) {
	s := &Signer{Zone: dns.CanonicalName(zone), Keys: keys, Validity: DefaultValidity, Refresh: DefaultRefresh}
	if len(s.signers(dns.TypeSOA, now)) == 0 || len(s.signers(dns.TypeDNSKEY, now)) == 0 {
		var revoked []string
		for _, k := range keys {
			if k.Published(now) && k.Revoked(now) {
				revoked = append(revoked, fmt.Sprint(k.TagAt(now)))
			}
		}
		also := ""
		if len(revoked) > 0 {
			also = fmt.Sprintf(" (revoked, signing the DNSKEY RRset only: key %s)", strings.Join(revoked, ", "))
		}
		return nil, fmt.Errorf("zone %q: %w among its %d key(s)%s: generate one with anyctl dnssec keygen", zone, ErrNoKeys, len(keys), also)
	}
	if err := s.everyAlgorithmSigns(now); err != nil {
		return nil, err
	}
	return s, nil
}

// everyAlgorithmSigns checks that every algorithm in the DNSKEY RRset at
// now signs the DNSKEY RRset and the zone's data (RFC 4035 §2.2): a
// validator may take a missing algorithm for a stripped signature. It
// wraps ErrNoKeys, so a served zone goes on with the keys it was signed
// with. A revoked key is in the DNSKEY RRset, so its algorithm needs
// keys that are not revoked signing both: its own signature, over the
// DNSKEY RRset only, is one no validator may use to validate (RFC 5011
// §2.1). RFC 5011 revokes a key beside an active one of its algorithm;
// revoking the last key of an algorithm is refused as no key signing.
func (s *Signer) everyAlgorithmSigns(now time.Time) error {
	signs := func(t uint16, alg uint8) bool {
		return slices.ContainsFunc(s.signers(t, now), func(k *Key) bool { return k.DNSKEY.Algorithm == alg })
	}
	var checked []uint8
	for _, k := range s.Keys {
		alg := k.DNSKEY.Algorithm
		if !k.Published(now) || slices.Contains(checked, alg) {
			continue
		}
		checked = append(checked, alg)
		var what, fix string
		dnskey, data := signs(dns.TypeDNSKEY, alg), signs(dns.TypeSOA, alg)
		switch {
		case !dnskey && !data:
			what, fix = "signs neither the DNSKEY RRset nor the zone's data", "publish a key of a new algorithm no earlier than it signs"
		case !data:
			what, fix = "no ZSK or CSK of it signs the zone's data", "give it a ZSK, or make the KSK and ZSK of one algorithm"
		case !dnskey:
			what, fix = "no KSK or CSK of it signs the DNSKEY RRset", "give it a KSK, or make the KSK and ZSK of one algorithm"
		default:
			continue
		}
		var tags []string
		for _, o := range s.Keys {
			if o.DNSKEY.Algorithm == alg && o.Published(now) {
				tag := fmt.Sprint(o.TagAt(now))
				if o.Revoked(now) {
					tag += " revoked"
					fix = "a revoked key signs only the DNSKEY RRset (RFC 5011): keep another key of its algorithm signing until the revoked key leaves the DNSKEY RRset (its Delete time)"
				}
				tags = append(tags, tag)
			}
		}
		return fmt.Errorf("zone %q: algorithm %s is in the DNSKEY RRset (key %s) but %s: %w of it there, and every algorithm in the DNSKEY RRset must sign every RRset (RFC 4035 §2.2); %s",
			s.Zone, dns.AlgorithmToString[alg], strings.Join(tags, ", "), what, ErrNoKeys, fix)
	}
	return nil
}

// Hold is a signer for the zone s signed at at, that goes on signing with
// the keys it published and signed with then, whatever their timing says
// after: for a zone whose keys all stopped signing, which answered
// unsigned would fail every resolver holding its DS. The keys are copies;
// their files are not changed.
func Hold(s *Signer, at time.Time) *Signer {
	h := *s
	h.Keys = nil
	for _, k := range s.Keys {
		if !k.Published(at) {
			continue
		}
		c := *k
		c.Timing = Timing{Created: k.Created, Publish: time.Unix(1, 0)}
		if k.Active(at) {
			c.Activate = c.Publish
		}
		if k.Revoked(at) {
			c.Revoke = c.Publish
		}
		h.Keys = append(h.Keys, &c)
	}
	return &h
}

// Waiting says whether none of a zone's keys has reached its activation
// at now (none signs, none signed by its timing): keys made ahead, for a
// zone to be signed later. Such a zone is answered unsigned; one whose
// keys all stopped signing is an error.
func Waiting(keys []*Key, now time.Time) bool {
	return !slices.ContainsFunc(keys, func(k *Key) bool {
		return k.Active(now) || (!k.Activate.IsZero() && !now.Before(k.Activate))
	})
}

// DNSKEYs is the zone's DNSKEY RRset at now: every published key, a
// revoked one with the REVOKE flag.
func (s *Signer) DNSKEYs(now time.Time, ttl uint32) []dns.RR {
	var out []dns.RR
	for _, k := range s.Keys {
		if k.Published(now) {
			c := *k.DNSKEYAt(now)
			c.Hdr.Name, c.Hdr.Ttl = s.Zone, ttl
			out = append(out, &c)
		}
	}
	return out
}

// Signs says whether the key k, of the zone, signs at now: the DNSKEY
// RRset or the zone's data. A revoked key's signature over the DNSKEY
// RRset (see Sign) is not signing: it says only that the key is revoked.
func (s *Signer) Signs(k *Key, now time.Time) bool {
	return slices.Contains(s.signers(dns.TypeDNSKEY, now), k) || slices.Contains(s.signers(dns.TypeSOA, now), k)
}

// signers are the keys that sign an RRset of type t at now, for each
// algorithm of the active keys: the DNSKEY RRset is signed by its active
// keys with the SEP flag (CSK or KSK), the others by its active ZSKs, or
// by its CSKs when it has no active ZSK. During an algorithm rollover
// each algorithm so signs with its own keys.
func (s *Signer) signers(t uint16, now time.Time) []*Key {
	var algs []uint8
	var out []*Key
	for _, k := range s.Keys {
		if k.Active(now) && !slices.Contains(algs, k.DNSKEY.Algorithm) {
			algs = append(algs, k.DNSKEY.Algorithm)
		}
	}
	for _, alg := range algs {
		var sep, zsk []*Key
		for _, k := range s.Keys {
			switch {
			case !k.Active(now) || k.DNSKEY.Algorithm != alg:
			case k.DNSKEY.Flags&dns.SEP != 0:
				sep = append(sep, k)
			default:
				zsk = append(zsk, k)
			}
		}
		switch {
		case t == dns.TypeDNSKEY:
			out = append(out, sep...)
		case len(zsk) > 0:
			out = append(out, zsk...)
		default:
			// A KSK alone does not sign the zone's data.
			out = append(out, slices.DeleteFunc(sep, func(k *Key) bool { return k.Role == KSK })...)
		}
	}
	return out
}

// Window is the validity of the signatures made at now.
func (s *Signer) Window(now time.Time) (inception, expiration time.Time) {
	return now.Add(-Backdate), now.Add(s.Validity)
}

// RefreshAt is when signatures made at now must be made again.
func (s *Signer) RefreshAt(now time.Time) time.Time {
	return now.Add(s.Validity - s.Refresh)
}

// Sign returns the RRSIGs of an RRset (records of one name, type and
// class) made at now, one per signing key. The RRSIG TTL is the RRset's.
// The apex DNSKEY RRset is also signed by each published revoked key
// (RFC 5011 §2.1: a resolver holding the key as a trust anchor accepts
// the revocation only from the key itself), with its tag as revoked.
func (s *Signer) Sign(rrset []dns.RR, now time.Time) ([]dns.RR, error) {
	if len(rrset) == 0 {
		return nil, nil
	}
	h := rrset[0].Header()
	keys := s.signers(h.Rrtype, now)
	if len(keys) == 0 {
		return nil, fmt.Errorf("zone %q: sign %s %s: %w", s.Zone, h.Name, dns.TypeToString[h.Rrtype], ErrNoKeys)
	}
	if h.Rrtype == dns.TypeDNSKEY && dns.CanonicalName(h.Name) == s.Zone {
		for _, k := range s.Keys {
			if k.Published(now) && k.Revoked(now) {
				keys = append(keys, k)
			}
		}
	}
	inception, expiration := s.Window(now)
	out := make([]dns.RR, 0, len(keys))
	for _, k := range keys {
		sig := &dns.RRSIG{
			Hdr:        dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
			KeyTag:     k.TagAt(now),
			SignerName: s.Zone,
			Algorithm:  k.DNSKEY.Algorithm,
			Inception:  uint32(inception.Unix()),
			Expiration: uint32(expiration.Unix()),
		}
		if err := sig.Sign(k.Signer, rrset); err != nil {
			return nil, fmt.Errorf("zone %q: sign %s %s with key %d: %w", s.Zone, h.Name, dns.TypeToString[h.Rrtype], k.TagAt(now), err)
		}
		out = append(out, sig)
	}
	return out, nil
}
