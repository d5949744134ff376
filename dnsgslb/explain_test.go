package dnsgslb_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

func TestExplain(t *testing.T) {
	s := newServer(t, "", gslbtest.SetHealthy(gslbtest.Snapshot(), "us-east", false))
	ix := s.Index()
	type cand struct{ name, excluded string }
	tests := []struct {
		desc     string
		name     string
		qtype    uint16
		client   string
		source   string
		leaf     string
		answer   []string
		scope    int
		rcode    string
		cands    []cand
		answered string
	}{
		{
			desc: "nearest from London, us-east down", name: "nearest.gslb.example.com.", qtype: dns.TypeA,
			client: gslbtest.London, source: "geoip", leaf: "198.18.1.0/24",
			answer: []string{a("nearest", gslbtest.EUWest4)}, scope: 24, rcode: "NOERROR",
			cands:    []cand{{"us-east", "unhealthy: 2 of 3 vantage points see it down"}, {"eu-west", ""}, {"ap-northeast", ""}},
			answered: "eu-west",
		},
		{
			desc: "residency from Frankfurt", name: "eu-only.gslb.example.com.", qtype: dns.TypeA,
			client: gslbtest.Frankfurt, source: "geoip", leaf: "198.18.3.0/24",
			// With us-east down, New York next door also gets eu-west: the
			// answer holds for the whole /23.
			answer: []string{a("eu-only", gslbtest.EUWest4)}, scope: 23, rcode: "NOERROR",
			cands:    []cand{{"us-east", "residency: not allowed by rule EU -> eu-west"}, {"eu-west", ""}, {"ap-northeast", "residency: not allowed by rule EU -> eu-west"}},
			answered: "eu-west",
		},
		{
			desc: "latency from the Tokyo PoP", name: "latency.gslb.example.com.", qtype: dns.TypeA,
			client: gslbtest.PopTokyo, source: "pop", leaf: "198.18.100.0/24",
			answer: []string{a("latency", gslbtest.APNortheast4)}, scope: 24, rcode: "NOERROR",
			cands:    []cand{{"us-east", "unhealthy: 2 of 3 vantage points see it down"}, {"eu-west", ""}, {"ap-northeast", ""}},
			answered: "ap-northeast",
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			ex := ix.Explain(tc.name, tc.qtype, netip.MustParsePrefix(tc.client))
			if ex.Located.Source != tc.source || ex.Located.Leaf.String() != tc.leaf {
				t.Errorf("located by %s in %s, want %s in %s", ex.Located.Source, ex.Located.Leaf, tc.source, tc.leaf)
			}
			var answer []string
			for _, s := range ex.Answer {
				answer = append(answer, strings.Join(strings.Fields(s), " "))
			}
			if !equal(answer, tc.answer) || ex.Scope != tc.scope || ex.Rcode != tc.rcode {
				t.Errorf("answer %q scope %d rcode %s, want %q %d %s", answer, ex.Scope, ex.Rcode, tc.answer, tc.scope, tc.rcode)
			}
			if len(ex.Candidates) != len(tc.cands) {
				t.Fatalf("%d candidates, want %d: %+v", len(ex.Candidates), len(tc.cands), ex.Candidates)
			}
			for i, c := range ex.Candidates {
				if c.Name != tc.cands[i].name || c.Excluded != tc.cands[i].excluded {
					t.Errorf("candidate %d: %s excluded %q, want %s excluded %q", i, c.Name, c.Excluded, tc.cands[i].name, tc.cands[i].excluded)
				}
				if c.Answered != (c.Name == tc.answered) {
					t.Errorf("candidate %s answered %v", c.Name, c.Answered)
				}
				if c.Excluded == "" && c.Rank == 0 {
					t.Errorf("kept candidate %s has no rank", c.Name)
				}
			}
		})
	}
}

// TestExplainAgreesWithServer: for every GSLB name and many clients, the
// answer Explain reports is the one the server sends.
func TestExplainAgreesWithServer(t *testing.T) {
	ts := startServer(t)
	ix := ts.Index()
	clients := []string{gslbtest.Tokyo, gslbtest.London, gslbtest.NewYork, gslbtest.Frankfurt, gslbtest.PopTokyo,
		gslbtest.PopLondon, "198.18.20.0/24", "203.0.113.0/24", gslbtest.Tokyo6, gslbtest.London6}
	names := []string{"nearest", "latency", "weighted", "failover", "dialled", "edge", "eu-only", "eu-open", "strict"}
	for _, n := range names {
		for _, c := range clients {
			name := n + ".gslb.example.com."
			r := ts.exchange(t, "udp", msg(t, name, dns.TypeA, c))
			ex := ix.Explain(name, dns.TypeA, netip.MustParsePrefix(c))
			if !equal(ex.Answer, rrsRaw(r.Answer)) || ex.Scope != scope(r) {
				t.Errorf("%s from %s: explain %q /%d, server %q /%d", n, c, ex.Answer, ex.Scope, rrsRaw(r.Answer), scope(r))
			}
			var traced []string
			for _, cd := range ex.Candidates {
				if cd.Answered {
					traced = append(traced, cd.Addresses...)
				}
			}
			for _, rr := range r.Answer {
				if ar, ok := rr.(*dns.A); ok && !strings.Contains(strings.Join(traced, " "), ar.A.String()) {
					t.Errorf("%s from %s: server answered %s, the trace marks %q as answered", n, c, ar.A, traced)
				}
			}
		}
	}
}

func rrsRaw(rs []dns.RR) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}
