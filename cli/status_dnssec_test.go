package cli

import (
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestDNSKEYSetsNameAServerWithoutKeys: a server that has no keys for a
// zone the others sign answers it unsigned, and status says so; a zone
// whose servers agree gets one line.
func TestDNSKEYSetsNameAServerWithoutKeys(t *testing.T) {
	set := func(zone, digest string, tag uint32) *v1.DnssecKeySet {
		return &v1.DnssecKeySet{Zone: zone, Digest: digest, Keys: []*v1.DnssecKeyId{{KeyTag: tag, Algorithm: 15, Flags: 257}}}
	}
	servers := []*v1.DnsServerEntry{
		{Name: "ns1", Address: "192.0.2.1:4000", DnssecKeySets: []*v1.DnssecKeySet{set("a.example.", "aa", 11), set("b.example.", "bb", 22)}},
		{Name: "ns2", Address: "192.0.2.2:4000", DnssecKeySets: []*v1.DnssecKeySet{set("a.example.", "aa", 11)}},
	}
	var out strings.Builder
	writeDNSKEYSets(&out, servers)
	want := `  DNSSEC a.example.: all 2 servers answer the same DNSKEY set: key 11 ED25519 ksk/csk
  DNSSEC b.example.: SERVERS DISAGREE on the DNSKEY set; validating resolvers fail at some of them:
    ns1 (192.0.2.1:4000): key 22 ED25519 ksk/csk
    ns2 (192.0.2.2:4000): no keys for the zone: answers unsigned
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
