package dnsgslb_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// startRealZone serves gslbtest.RealZone.
func startRealZone(t testing.TB) *testServer {
	t.Helper()
	return run(t, newServer(t, "", gslbtest.RealZone()))
}

// TestLongTXT: a value longer than 255 bytes is one TXT record made of as
// many character-strings as it needs, which together are the value.
func TestLongTXT(t *testing.T) {
	ts := startRealZone(t)
	for _, network := range []string{"udp", "tcp"} {
		m := msg(t, "sel._domainkey.gslb.example.com.", dns.TypeTXT, "")
		m.SetEdns0(1232, false)
		r := ts.exchange(t, network, m)
		if r.Rcode != dns.RcodeSuccess || r.Truncated || len(r.Answer) != 2 {
			t.Fatalf("%s: rcode %s TC %v with %d answers, want NOERROR with 2", network, dns.RcodeToString[r.Rcode], r.Truncated, len(r.Answer))
		}
		var long *dns.TXT
		for _, rr := range r.Answer {
			if txt := rr.(*dns.TXT); len(txt.Txt) > 1 {
				long = txt
			}
		}
		if long == nil {
			t.Fatalf("%s: no record of several character-strings in %q", network, rrs(r.Answer))
		}
		// miekg/dns shows a backslash in a string escaped.
		got := strings.ReplaceAll(strings.Join(long.Txt, ""), `\\`, `\`)
		if got != gslbtest.DKIM {
			t.Errorf("%s: strings joined are\n%q\nwant\n%q", network, got, gslbtest.DKIM)
		}
		if n := len(long.Txt); n != 3 {
			t.Errorf("%s: %d character-strings, want 3 for 600 bytes", network, n)
		}
	}
}

// TestZoneData: MX, SRV, CAA, SVCB and HTTPS records are served from the
// zone, over UDP and TCP.
func TestZoneData(t *testing.T) {
	ts := startRealZone(t)
	tests := []struct {
		name   string
		qtype  uint16
		answer []string
	}{
		{"gslb.example.com.", dns.TypeMX, []string{"gslb.example.com. 300 IN MX 10 mx1.gslb.example.com.", "gslb.example.com. 300 IN MX 20 mx2.example.net."}},
		{"_sip._tcp.gslb.example.com.", dns.TypeSRV, []string{"_sip._tcp.gslb.example.com. 300 IN SRV 10 5 5060 sip.example.net."}},
		{"gslb.example.com.", dns.TypeCAA, []string{`gslb.example.com. 300 IN CAA 0 issue "ca.example.net; account=1"`}},
		{"svc.gslb.example.com.", dns.TypeSVCB, []string{`svc.gslb.example.com. 300 IN SVCB 1 svc-pool.example.net. alpn="h2" port="8443"`}},
		{"www.gslb.example.com.", dns.TypeHTTPS, []string{`www.gslb.example.com. 300 IN HTTPS 1 . alpn="h2,h3"`}},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			r := ts.exchange(t, network, msg(t, tc.name, tc.qtype, ""))
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
				t.Errorf("%s %s %s: rcode %s AA %v", network, tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[r.Rcode], r.Authoritative)
			}
			if got := rrs(r.Answer); !equal(got, tc.answer) {
				t.Errorf("%s %s %s: answer\n got %q\nwant %q", network, tc.name, dns.TypeToString[tc.qtype], got, tc.answer)
			}
		}
	}
}

// TestDelegation: names at and below a zone cut get a referral: not
// authoritative, the cut's NS records in the authority section and the
// glue in the additional section; DS at the cut is the parent's to answer.
func TestDelegation(t *testing.T) {
	ts := startRealZone(t)
	ns := func(owner string) []string {
		return []string{owner + " 3600 IN NS ns1.child.gslb.example.com.", owner + " 3600 IN NS ns.example.net."}
	}
	glue := []string{"ns1.child.gslb.example.com. 3600 IN A " + gslbtest.ChildNS4, "ns1.child.gslb.example.com. 3600 IN AAAA " + gslbtest.ChildNS6}
	for _, tc := range []struct{ name, owner string }{
		{"child.gslb.example.com.", "child.gslb.example.com."},
		{"www.child.gslb.example.com.", "child.gslb.example.com."},
		{"a.b.c.Child.gslb.example.com.", "Child.gslb.example.com."},
		{"ns1.child.gslb.example.com.", "child.gslb.example.com."},
	} {
		for _, network := range []string{"udp", "tcp"} {
			for _, qtype := range []uint16{dns.TypeA, dns.TypeNS, dns.TypeMX} {
				r := ts.exchange(t, network, msg(t, tc.name, qtype, ""))
				what := network + " " + tc.name + " " + dns.TypeToString[qtype]
				if r.Rcode != dns.RcodeSuccess || r.Authoritative || len(r.Answer) != 0 {
					t.Errorf("%s: rcode %s AA %v answers %d, want a referral", what, dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
				}
				// Names compressed into the question take its case.
				if got, want := rrs(r.Ns), ns(tc.owner); !strings.EqualFold(strings.Join(got, "|"), strings.Join(want, "|")) {
					t.Errorf("%s: authority\n got %q\nwant %q", what, got, want)
				}
				if got := rrs(r.Extra); !strings.EqualFold(strings.Join(got, "|"), strings.Join(glue, "|")) {
					t.Errorf("%s: additional\n got %q\nwant %q", what, got, glue)
				}
				if r.Question[0].Name != tc.name {
					t.Errorf("%s: question %q", what, r.Question[0].Name)
				}
			}
		}
	}
	r := ts.exchange(t, "udp", msg(t, "child.gslb.example.com.", dns.TypeDS, ""))
	if !r.Authoritative || len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("DS at the cut: AA %v, answer %q, authority %q; want NODATA from the parent", r.Authoritative, rrs(r.Answer), rrs(r.Ns))
	}
}

// TestHTTPSRecord: a GslbRecord of type HTTPS answers one ServiceMode
// record whose hints are the addresses of the origin or PoP chosen for the
// client, with the record's own parameters.
func TestHTTPSRecord(t *testing.T) {
	ts := startRealZone(t)
	tests := []struct {
		name, ecs string
		answer    []string
	}{
		{"web", gslbtest.London, []string{`web.gslb.example.com. 30 IN HTTPS 1 . alpn="h2,h3" ipv4hint="` + gslbtest.EUWest4 + `" ipv6hint="` + gslbtest.EUWest6 + `"`}},
		{"web", gslbtest.Tokyo6, []string{`web.gslb.example.com. 30 IN HTTPS 1 . alpn="h2,h3" ipv4hint="` + gslbtest.APNortheast4 + `" ipv6hint="` + gslbtest.APNortheast6 + `"`}},
		{"edge", gslbtest.PopLondon, []string{`edge.gslb.example.com. 30 IN HTTPS 1 . alpn="h3" port="443" ipv4hint="203.0.113.2"`}},
		{"edge", gslbtest.PopTokyo, []string{`edge.gslb.example.com. 30 IN HTTPS 1 . alpn="h3" port="443" ipv4hint="203.0.113.1"`}},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			r := ts.exchange(t, network, msg(t, tc.name+".gslb.example.com.", dns.TypeHTTPS, tc.ecs))
			if got := rrs(r.Answer); !equal(got, tc.answer) || !r.Authoritative {
				t.Errorf("%s %s from %s: AA %v answer\n got %q\nwant %q", network, tc.name, tc.ecs, r.Authoritative, got, tc.answer)
			}
			if s := scope(r); s <= 0 {
				t.Errorf("%s %s from %s: ECS scope %d, want the answer's own", network, tc.name, tc.ecs, s)
			}
		}
	}
}

// TestNameOrigin: an origin whose address is a DNS name is answered with a
// CNAME to it when the policy chooses it, for every type, and passed over
// for the next choice when it is down.
func TestNameOrigin(t *testing.T) {
	snap := gslbtest.RealZone()
	ts := run(t, newServer(t, "", snap))
	cname := "cloud.gslb.example.com. 30 IN CNAME " + gslbtest.CloudLB
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS} {
		r := ts.exchange(t, "udp", msg(t, "cloud.gslb.example.com.", qtype, gslbtest.Tokyo))
		if got := rrs(r.Answer); !equal(got, []string{cname}) || !r.Authoritative {
			t.Errorf("%s from Tokyo: AA %v answer %q, want %q", dns.TypeToString[qtype], r.Authoritative, got, cname)
		}
	}
	r := ts.exchange(t, "udp", msg(t, "cloud.gslb.example.com.", dns.TypeA, gslbtest.NewYork))
	if got, want := rrs(r.Answer), []string{a("cloud", gslbtest.USEast4)}; !equal(got, want) {
		t.Errorf("A from New York: %q, want %q", got, want)
	}
	if err := ts.Update(gslbtest.SetHealthy(snap, "cloud-lb", false)); err != nil {
		t.Fatal(err)
	}
	awaitFullIndex(t, ts.Server)
	r = ts.exchange(t, "udp", msg(t, "cloud.gslb.example.com.", dns.TypeA, gslbtest.Tokyo))
	if got, want := rrs(r.Answer), []string{a("cloud", gslbtest.USEast4)}; !equal(got, want) {
		t.Errorf("A from Tokyo with cloud-lb down: %q, want %q", got, want)
	}
}

// TestDuplicateValuesOnce: a value given twice, in one static record or in
// two of the same name and type, is served once (RFC 2181 section 5), as
// NSD loads a zone file with it (TestNSDAgrees).
func TestDuplicateValuesOnce(t *testing.T) {
	snap := gslbtest.Snapshot()
	z := snap.GetZones()[0].GetSpec()
	z.Records = append(z.Records,
		&v1.StaticRecord{Name: "twice", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"same", "same", "other"}},
		&v1.StaticRecord{Name: "twice", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"other"}},
		&v1.StaticRecord{Name: "twice", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.1", "::ffff:192.0.2.1"}},
	)
	ts := run(t, newServer(t, "", snap))
	for _, tc := range []struct {
		qtype uint16
		want  []string
	}{
		{dns.TypeTXT, []string{`twice.gslb.example.com. 300 IN TXT "same"`, `twice.gslb.example.com. 300 IN TXT "other"`}},
		{dns.TypeA, []string{"twice.gslb.example.com. 300 IN A 192.0.2.1"}},
	} {
		r := ts.exchange(t, "udp", msg(t, "twice.gslb.example.com.", tc.qtype, ""))
		if got := rrs(r.Answer); !equal(got, tc.want) {
			t.Errorf("%s: answer %q, want %q", dns.TypeToString[tc.qtype], got, tc.want)
		}
	}
}
