package cli

import (
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestDNSServersNameAStaleFeed: a DNS server whose stream has gone
// without a confirmation is named, with what the replica says; the
// others are only counted.
func TestDNSServersNameAStaleFeed(t *testing.T) {
	resp := &v1.StatusResponse{DnsServers: []*v1.DnsServerEntry{
		{Name: "ns1", Address: "192.0.2.1:4000", Unconfirmed: "its last confirmation that this replica's state is current for 17s: it leaves this replica for another after its --feed-stale-after"},
		{Name: "ns2", Address: "192.0.2.2:4000"},
	}}
	var out strings.Builder
	writeDNSServers(&out, resp)
	want := `DNS servers:   2 streaming the GSLB feed from this replica
  ns1 (192.0.2.1:4000) feed STALE: its last confirmation that this replica's state is current for 17s: it leaves this replica for another after its --feed-stale-after
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// TestDNSServersNameARejectedSnapshot: a DNS server that rejects the
// snapshot it was sent is named, with the revision and why.
func TestDNSServersNameARejectedSnapshot(t *testing.T) {
	resp := &v1.StatusResponse{DnsServers: []*v1.DnsServerEntry{
		{Name: "ns1", Address: "192.0.2.1:4000", SnapshotRejected: `revision 12: cannot read the GeoIP database "/var/lib/GeoIP/GeoLite2-City.mmdb": invalid MaxMind DB file`},
		{Name: "ns2", Address: "192.0.2.2:4000"},
	}}
	var out strings.Builder
	writeDNSServers(&out, resp)
	want := `DNS servers:   2 streaming the GSLB feed from this replica
  ns1 (192.0.2.1:4000) REJECTED the GSLB snapshot, answering from an older one: revision 12: cannot read the GeoIP database "/var/lib/GeoIP/GeoLite2-City.mmdb": invalid MaxMind DB file
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
