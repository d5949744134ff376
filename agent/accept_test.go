package agent

import (
	"net/netip"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestAcceptKeepsWhatDoesNotConvert: a config is converted whole; a part
// that does not convert keeps an error naming the field and the value, and
// the rest converts.
func TestAcceptKeepsWhatDoesNotConvert(t *testing.T) {
	cfg := &v1.PopConfig{
		LocalAsn: 64512,
		RouterId: "192.0.2.254/32",
		Services: []*v1.ServiceAssignment{
			service("edge", []string{"198.51.100.7/24", "192.0.2.0"}),
			service("dns", []string{"2001:db8:53::/48"}, noCheck),
		},
		Peers: []*v1.BgpPeer{
			{Address: "10.0.0.1", PeerAsn: 64500, HoldTime: durationpb.New(9e9), Families: []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST}},
			{Address: "10.0.0.300", PeerAsn: 64500},
			{Address: "10.0.0.2", LocalAddress: "nowhere", PasswordRef: "p"},
		},
		OriginProbes: []*v1.OriginProbe{{Origin: "fra", Addresses: []string{"192.0.2.10", "192.0.2.11"}, HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_TCP, Target: ":80"}}},
	}
	c := accept(cfg)
	errs := []struct {
		what string
		err  error
		want string
	}{
		{"router ID", c.routerIDErr, `config routerId "192.0.2.254/32"`},
		{"peer address", c.peers[1].err, `config peers[1].address "10.0.0.300"`},
		{"peer local address", c.peers[2].localErr, `config peers[2].localAddress "nowhere"`},
	}
	for _, e := range errs {
		if e.err == nil || !strings.HasPrefix(e.err.Error(), e.want) {
			t.Errorf("%s: error %v, want one starting %q", e.what, e.err, e.want)
		}
	}
	if c.asn != 64512 {
		t.Errorf("asn %d, want 64512", c.asn)
	}
	edge := c.services[0]
	if edge.prefixes[0].pfx != netip.MustParsePrefix("198.51.100.7/24") {
		t.Errorf("prefix 0 = %v, want 198.51.100.7/24 as written (desired refuses its host bits)", edge.prefixes[0].pfx)
	}
	if edge.prefixes[1].pfx.IsValid() || edge.prefixes[1].text != "192.0.2.0" {
		t.Errorf("prefix 1 = %+v, want the text kept and no prefix", edge.prefixes[1])
	}
	if edge.check == nil || edge.check.specErr != nil || edge.check.spec.Target != "198.51.100.1:53" {
		t.Errorf("edge check = %+v, want a spec probing the first host of the first prefix, 198.51.100.1:53", edge.check)
	}
	if c.services[1].check != nil {
		t.Errorf("dns check = %+v, want none", c.services[1].check)
	}
	p := c.peers[0]
	if p.err != nil || p.localErr != nil || p.Address != netip.MustParseAddr("10.0.0.1") || p.HoldTime.Seconds() != 9 || len(p.Families) != 1 {
		t.Errorf("peer 0 = %+v, want 10.0.0.1, hold time 9s, one family, no error", p)
	}
	if c.peers[2].passwordRef != "p" {
		t.Errorf("peer 2 passwordRef %q, want \"p\"", c.peers[2].passwordRef)
	}
	if o := c.origins[0]; o.name != "fra" || len(o.checks) != 2 || o.checks[1].err != nil || o.checks[1].spec.Target != "192.0.2.11:80" {
		t.Errorf("origin = %+v, want fra probed at both addresses", o)
	}
	if got := c.servicePrefixes(); len(got["edge"]) != 0 || len(got["dns"]) != 1 {
		t.Errorf("servicePrefixes = %v, want none for edge (not a prefix; host bits) and dns's one", got)
	}
}
