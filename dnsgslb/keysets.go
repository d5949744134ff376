package dnsgslb

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
)

// KeySet is the DNSKEY RRset the server answers for a signed zone, in
// short: what anyctl status compares across a zone's servers.
type KeySet struct {
	Zone string
	// Keys are the RRset's keys, by key tag.
	Keys []KeyID
	// Digest is a SHA-256 over the RRset's records in canonical order and
	// which of them sign (hex, the first 16 digits): servers with the
	// same key files but different timing (one still signing with a key
	// the others retired) differ.
	Digest string
}

// KeyID names a DNSKEY without its public key, as served: a revoked key
// with the REVOKE flag in Flags and the tag that goes with it.
type KeyID struct {
	Tag       uint16
	Algorithm uint8
	Flags     uint16
	// Signing says the key signs (it is active), as opposed to published
	// only; a revoked key, which signs the DNSKEY RRset only to say it is
	// revoked, does not.
	Signing bool
}

func (k KeyID) String() string {
	role := "zsk"
	if k.Flags&dns.SEP != 0 {
		role = "ksk/csk"
	}
	if k.Flags&dns.REVOKE != 0 {
		role += "/revoked"
	}
	if k.Signing {
		role += "/signing"
	}
	return fmt.Sprintf("%d/%s/%s", k.Tag, dns.AlgorithmToString[k.Algorithm], role)
}

// keySets are the DNSKEY RRsets the signers publish at now, by zone.
func keySets(signers map[string]*dnssec.Signer, now time.Time) []KeySet {
	var out []KeySet
	for _, zone := range slices.Sorted(maps.Keys(signers)) {
		set := KeySet{Zone: zone}
		var rdata []string
		sg := signers[zone]
		for _, key := range sg.Keys {
			if !key.Published(now) {
				continue
			}
			k, signs := key.DNSKEYAt(now), sg.Signs(key, now)
			set.Keys = append(set.Keys, KeyID{Tag: k.KeyTag(), Algorithm: k.Algorithm, Flags: k.Flags, Signing: signs})
			rdata = append(rdata, fmt.Sprintf("%d %d %d %s %t", k.Flags, k.Protocol, k.Algorithm, k.PublicKey, signs))
		}
		slices.SortFunc(set.Keys, func(a, b KeyID) int {
			return cmp.Or(cmp.Compare(a.Tag, b.Tag), cmp.Compare(a.Algorithm, b.Algorithm))
		})
		slices.Sort(rdata)
		sum := sha256.Sum256([]byte(strings.Join(rdata, "\n")))
		set.Digest = hex.EncodeToString(sum[:8])
		out = append(out, set)
	}
	return out
}

// KeySets are the DNSKEY RRsets the server answers, one per zone it has
// keys for; nil without DNSSEC keys.
func (s *Server) KeySets() []KeySet {
	if s.signing == nil {
		return nil
	}
	s.signing.mu.Lock()
	defer s.signing.mu.Unlock()
	return slices.Clone(s.signing.published)
}

// KeySetsChanged receives after the server started answering with other
// DNSKEY RRsets (a key was published or deleted, by its timing or in the
// key directory): the server's subscription to the feed says them again.
func (s *Server) KeySetsChanged() <-chan struct{} { return s.keySetsChanged }

// setPublished records the DNSKEY RRsets the index now served answers, and
// signals KeySetsChanged when they differ from those before.
func (s *Server) setPublished(sets []KeySet) {
	sg := s.signing
	sg.mu.Lock()
	same := slices.EqualFunc(sg.published, sets, func(a, b KeySet) bool { return a.Zone == b.Zone && a.Digest == b.Digest })
	sg.published = sets
	sg.mu.Unlock()
	if !same {
		select {
		case s.keySetsChanged <- struct{}{}:
		default:
		}
	}
}

var keySetDesc = prometheus.NewDesc("anyctl_dns_dnssec_keyset_info",
	"1 for each zone served: the DNSKEY RRset answered, by its digest and keys (tag/algorithm/flags, and /signing for those that sign); digest \"unsigned\" for a zone answered unsigned. The servers of a zone should all have one digest: count by (zone) (count by (zone, digest) (anyctl_dns_dnssec_keyset_info)) > 1 is a zone whose servers disagree.",
	[]string{"zone", "digest", "keys"}, nil)

var keysFailingDesc = prometheus.NewDesc("anyctl_dns_dnssec_keys_failing",
	"1 when the last reading of the DNSSEC key directory, or signing with its keys, failed: the server answers with the signatures it has until they expire, and a signed zone with no key that signs goes on being signed with the keys it was last signed with. The log says why.",
	nil, nil)

// unsignedDigest is the keyset digest of a zone answered unsigned.
const unsignedDigest = "unsigned"

// keySetCollector exports the DNSKEY RRsets a server answers, and the
// zones it answers unsigned: a server without a zone's keys disagrees
// with the servers signing it; and whether its keys fail.
type keySetCollector struct{ s *Server }

func (c keySetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- keySetDesc
	ch <- keysFailingDesc
}

func (c keySetCollector) Collect(ch chan<- prometheus.Metric) {
	if sg := c.s.signing; sg != nil {
		failing := 0.0
		if sg.failing.Load() {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(keysFailingDesc, prometheus.GaugeValue, failing)
	}
	if ix := c.s.index.Load(); ix != nil {
		for _, zone := range ix.UnsignedZones() {
			ch <- prometheus.MustNewConstMetric(keySetDesc, prometheus.GaugeValue, 1, zone, unsignedDigest, "")
		}
	}
	for _, set := range c.s.KeySets() {
		var keys []string
		for _, k := range set.Keys {
			signing := ""
			if k.Signing {
				signing = "/signing"
			}
			keys = append(keys, fmt.Sprintf("%d/%d/%d%s", k.Tag, k.Algorithm, k.Flags, signing))
		}
		ch <- prometheus.MustNewConstMetric(keySetDesc, prometheus.GaugeValue, 1, set.Zone, set.Digest, strings.Join(keys, ","))
	}
}
