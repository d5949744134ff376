package dnsgslb_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/index"
)

func a(name, addr string) string    { return name + ".gslb.example.com. 30 IN A " + addr }
func aaaa(name, addr string) string { return name + ".gslb.example.com. 30 IN AAAA " + addr }

func TestPolicies(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		name  string
		qtype uint16
		ecs   string
		want  []string
		scope int
	}{
		// nearest: great-circle distance from the client's GeoIP location.
		{"nearest", dns.TypeA, gslbtest.Tokyo, []string{a("nearest", gslbtest.APNortheast4)}, 24},
		{"nearest", dns.TypeA, gslbtest.London, []string{a("nearest", gslbtest.EUWest4)}, 24},
		{"nearest", dns.TypeA, gslbtest.NewYork, []string{a("nearest", gslbtest.USEast4)}, 24},
		{"nearest", dns.TypeA, gslbtest.Frankfurt, []string{a("nearest", gslbtest.EUWest4)}, 24},
		// A /28 inside the London /24 gets the /24's answer and scope.
		{"nearest", dns.TypeA, "198.18.1.16/28", []string{a("nearest", gslbtest.EUWest4)}, 24},
		// Unknown to GeoIP: the default location (near Ashburn); the block
		// of default-located space around 192.0.2.0 is 192.0.0.0/6.
		{"nearest", dns.TypeA, "192.0.2.0/24", []string{a("nearest", gslbtest.USEast4)}, 6},
		{"nearest", dns.TypeAAAA, gslbtest.Tokyo6, []string{aaaa("nearest", gslbtest.APNortheast6)}, 48},
		{"nearest", dns.TypeAAAA, gslbtest.London6, []string{aaaa("nearest", gslbtest.EUWest6)}, 48},
		{"nearest", dns.TypeAAAA, gslbtest.NewYork6, []string{aaaa("nearest", gslbtest.USEast6)}, 48},
		// latency: the asking PoP's RTTs; the Tokyo PoP measures us-east
		// faster than ap-northeast.
		{"latency", dns.TypeA, gslbtest.PopTokyo, []string{a("latency", gslbtest.USEast4)}, 24},
		{"latency", dns.TypeA, gslbtest.PopLondon, []string{a("latency", gslbtest.EUWest4)}, 24},
		// The New York PoP and the default space above it both get
		// us-east: the scope widens to the /23.
		{"latency", dns.TypeA, gslbtest.PopNewYork, []string{a("latency", gslbtest.USEast4)}, 23},
		// Not a PoP: nearest.
		{"latency", dns.TypeA, gslbtest.Tokyo, []string{a("latency", gslbtest.APNortheast4)}, 24},
		// failover: listed order, two answers, the same for everyone.
		{"failover", dns.TypeA, gslbtest.Tokyo, []string{a("failover", gslbtest.EUWest4), a("failover", gslbtest.USEast4)}, 0},
		{"failover", dns.TypeA, gslbtest.NewYork6, []string{a("failover", gslbtest.EUWest4), a("failover", gslbtest.USEast4)}, 0},
		// hybrid: PoPs' unicast addresses.
		{"edge", dns.TypeA, gslbtest.Tokyo, []string{a("edge", "203.0.113.1")}, 24},
		{"edge", dns.TypeA, gslbtest.London, []string{a("edge", "203.0.113.2")}, 24},
		{"edge", dns.TypeA, gslbtest.NewYork, []string{a("edge", "203.0.113.3")}, 24},
		// residency: EU clients only get eu-west; others nearest.
		{"eu-only", dns.TypeA, gslbtest.London, []string{a("eu-only", gslbtest.EUWest4)}, 24},
		{"eu-only", dns.TypeA, gslbtest.Tokyo, []string{a("eu-only", gslbtest.APNortheast4)}, 24},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.name, dns.TypeToString[tc.qtype], tc.ecs), func(t *testing.T) {
			r := ts.exchange(t, "udp", msg(t, tc.name+".gslb.example.com.", tc.qtype, tc.ecs))
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
				t.Fatalf("rcode %s aa %v, want NOERROR aa", dns.RcodeToString[r.Rcode], r.Authoritative)
			}
			if got := rrs(r.Answer); !equal(got, tc.want) {
				t.Errorf("answer\n got %q\nwant %q", got, tc.want)
			}
			if got := scope(r); got != tc.scope {
				t.Errorf("ECS scope %d, want %d", got, tc.scope)
			}
		})
	}
}

// TestWeighted checks the weighted policy over many client subnets: every
// subnet's answer is stable, the scope is the /24 the hash uses, and the
// shares follow the weights (60/30/10).
func TestWeighted(t *testing.T) {
	ts := startServer(t)
	count := map[string]int{}
	for i := range 200 {
		ecs := fmt.Sprintf("100.%d.%d.0/24", 64+i/256, i%256)
		var first []string
		for range 2 {
			r := ts.exchange(t, "udp", msg(t, "weighted.gslb.example.com.", dns.TypeA, ecs))
			got := rrs(r.Answer)
			if len(got) != 1 {
				t.Fatalf("%s: answer %q, want one record", ecs, got)
			}
			if first != nil && !equal(first, got) {
				t.Fatalf("%s: repeated query answered %q then %q", ecs, first, got)
			}
			first = got
			if s := scope(r); s != 24 {
				t.Fatalf("%s: scope %d, want 24", ecs, s)
			}
		}
		count[first[0]]++
	}
	us, eu, ap := count[a("weighted", gslbtest.USEast4)], count[a("weighted", gslbtest.EUWest4)], count[a("weighted", gslbtest.APNortheast4)]
	t.Logf("us-east %d eu-west %d ap-northeast %d of 200", us, eu, ap)
	if us+eu+ap != 200 || !(us > eu && eu > ap && ap > 0) {
		t.Errorf("shares us-east %d eu-west %d ap-northeast %d: want us > eu > ap > 0", us, eu, ap)
	}
	if us < 90 || us > 150 {
		t.Errorf("us-east got %d of 200, want about 120", us)
	}
}

// TestTrafficDial: us-west keeps 30% of the Palo Alto subnets it would win
// (those whose bucket is below 30); the rest spill to us-east.
func TestTrafficDial(t *testing.T) {
	ts := startServer(t)
	kept, spilled := 0, 0
	for i := range 16 {
		ecs := fmt.Sprintf("198.18.%d.0/24", 16+i)
		r := ts.exchange(t, "udp", msg(t, "dialled.gslb.example.com.", dns.TypeA, ecs))
		want := a("dialled", gslbtest.USEast4)
		if index.Bucket(netip.MustParsePrefix(ecs).Addr()) < 30 {
			want = a("dialled", gslbtest.USWest4)
			kept++
		} else {
			spilled++
		}
		if got := rrs(r.Answer); !equal(got, []string{want}) {
			t.Errorf("%s: answer %q, want %q", ecs, got, want)
		}
		if s := scope(r); s != 24 {
			t.Errorf("%s: scope %d, want 24", ecs, s)
		}
	}
	if kept == 0 || spilled == 0 {
		t.Errorf("kept %d spilled %d: the test subnets should show both", kept, spilled)
	}
}

// TestECSIPv4Mapped: an IPv6 ECS subnet holding IPv4-mapped addresses is
// steered as the IPv4 subnet it maps, and its scope counts IPv6 bits: an
// IPv4 /24 is an IPv6 /120, never the IPv6 /24 a resolver would cache the
// answer for. The scope of any other IPv6 subnet leaves ::ffff:0:0/96
// out: 100::/64 is default-located in a leaf ::/3, which holds the
// IPv4-mapped addresses as well, and they are steered otherwise.
func TestECSIPv4Mapped(t *testing.T) { inBothAnswerModes(t, ecsIPv4Mapped) }

func ecsIPv4Mapped(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		name  string
		qtype uint16
		ecs   string
		want  []string
		scope int
	}{
		{"nearest", dns.TypeA, "::ffff:198.18.0.0/120", []string{a("nearest", gslbtest.APNortheast4)}, 120},
		{"nearest", dns.TypeA, "::ffff:198.18.1.16/124", []string{a("nearest", gslbtest.EUWest4)}, 120},
		{"nearest", dns.TypeA, "::ffff:192.0.2.0/120", []string{a("nearest", gslbtest.USEast4)}, 96 + 6},
		{"weighted", dns.TypeA, "::ffff:100.64.0.0/120", nil, 120},
		{"failover", dns.TypeA, "::ffff:198.18.0.0/120", []string{a("failover", gslbtest.EUWest4), a("failover", gslbtest.USEast4)}, 0},
		{"nearest", dns.TypeAAAA, "::ffff:198.18.0.0/120", []string{aaaa("nearest", gslbtest.APNortheast6)}, 120},
		{"nearest", dns.TypeAAAA, "100::/64", []string{aaaa("nearest", gslbtest.USEast6)}, 8},
		{"nearest", dns.TypeAAAA, "64:ff9b::c612:0/120", []string{aaaa("nearest", gslbtest.USEast6)}, 10},
		{"nearest", dns.TypeAAAA, "2400::/32", []string{aaaa("nearest", gslbtest.USEast6)}, 6},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.name, dns.TypeToString[tc.qtype], tc.ecs), func(t *testing.T) {
			r := ts.exchange(t, "udp", msg(t, tc.name+".gslb.example.com.", tc.qtype, tc.ecs))
			if got := rrs(r.Answer); tc.want != nil && !equal(got, tc.want) {
				t.Errorf("answer\n got %q\nwant %q", got, tc.want)
			}
			if got := scope(r); got != tc.scope {
				t.Errorf("ECS scope %d, want %d", got, tc.scope)
			}
		})
	}
}
