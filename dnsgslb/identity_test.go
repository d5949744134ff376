package dnsgslb_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// nsidOf returns the NSID option of a reply, "" without one, and whether
// there was one.
func nsidOf(m *dns.Msg) (string, bool) {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if n, ok := o.(*dns.EDNS0_NSID); ok {
				return n.Nsid, true
			}
		}
	}
	return "", false
}

// TestNSID: the server sends its identity as NSID (hex on the wire's
// presentation) to queries that ask, over UDP and TCP, and only to them.
func TestNSID(t *testing.T) {
	ts := run(t, newServerWith(t, dnsgslb.Config{Identity: "ns1.fra"}, gslbtest.Snapshot()))
	ask := msg(t, "www.gslb.example.com.", dns.TypeA, "")
	ask.SetEdns0(1232, false)
	ask.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID}}
	for _, network := range []string{"udp", "tcp"} {
		r := ts.exchange(t, network, ask)
		if got, _ := nsidOf(r); got != "6e73312e667261" || len(r.Answer) != 1 {
			t.Errorf("%s: NSID %q with %d answers, want 6e73312e667261 (ns1.fra) and the answer", network, got, len(r.Answer))
		}
	}
	plain := msg(t, "www.gslb.example.com.", dns.TypeA, "")
	plain.SetEdns0(1232, false)
	if _, ok := nsidOf(ts.exchange(t, "udp", plain)); ok {
		t.Error("NSID sent to a query that did not ask for it")
	}
	// NXDOMAIN and REFUSED replies say who answered too.
	for _, name := range []string{"nope.gslb.example.com.", "www.example.org."} {
		ask.Question[0].Name = name
		if got, _ := nsidOf(ts.exchange(t, "udp", ask)); got != "6e73312e667261" {
			t.Errorf("%s: NSID %q, want ns1.fra", name, got)
		}
	}

	anon := startServer(t)
	ask.Question[0].Name = "www.gslb.example.com."
	if _, ok := nsidOf(anon.exchange(t, "udp", ask)); ok {
		t.Error("a server without an identity sent NSID")
	}
}

// TestChaosIdentity: CHAOS TXT id.server. and hostname.bind. answer the
// identity, in any case; version.bind. is refused unless configured.
func TestChaosIdentity(t *testing.T) {
	chaos := func(name string, qtype uint16) *dns.Msg {
		m := msg(t, name, qtype, "")
		m.Question[0].Qclass = dns.ClassCHAOS
		return m
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{Identity: "ns1.fra"}, gslbtest.Snapshot()))
	for _, network := range []string{"udp", "tcp"} {
		for _, name := range []string{"id.server.", "hostname.bind.", "ID.Server."} {
			r := ts.exchange(t, network, chaos(name, dns.TypeTXT))
			want := name + ` 0 CH TXT "ns1.fra"`
			if got := rrs(r.Answer); r.Rcode != dns.RcodeSuccess || !r.Authoritative || !equal(got, []string{want}) {
				t.Errorf("%s %s: rcode %s AA %v answer %q, want NOERROR AA %q", network, name, rcodeName(r.Rcode), r.Authoritative, got, want)
			}
		}
		for _, name := range []string{"version.bind.", "authors.bind.", "www.gslb.example.com."} {
			if r := ts.exchange(t, network, chaos(name, dns.TypeTXT)); r.Rcode != dns.RcodeRefused {
				t.Errorf("%s CH TXT %s: rcode %s, want REFUSED", network, name, rcodeName(r.Rcode))
			}
		}
	}
	if r := ts.exchange(t, "udp", chaos("id.server.", dns.TypeA)); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("CH A id.server.: rcode %s, %d answers; want NOERROR, none", rcodeName(r.Rcode), len(r.Answer))
	}

	versioned := run(t, newServerWith(t, dnsgslb.Config{VersionBind: "anyctl 1.0"}, gslbtest.Snapshot()))
	r := versioned.exchange(t, "udp", chaos("version.bind.", dns.TypeTXT))
	if got, want := rrs(r.Answer), []string{`version.bind. 0 CH TXT "anyctl 1.0"`}; !equal(got, want) {
		t.Errorf("version.bind.: %q, want %q", got, want)
	}
	if r := versioned.exchange(t, "udp", chaos("id.server.", dns.TypeTXT)); r.Rcode != dns.RcodeRefused {
		t.Errorf("id.server. without an identity: rcode %s, want REFUSED", rcodeName(r.Rcode))
	}
}

func TestIdentityTooLong(t *testing.T) {
	long := string(make([]byte, 129))
	for _, cfg := range []dnsgslb.Config{{Listen: "127.0.0.1:0", Identity: long}, {Listen: "127.0.0.1:0", VersionBind: long}} {
		if _, err := dnsgslb.New(cfg); err == nil {
			t.Errorf("New accepted a 129-byte identity or version: %+v", cfg)
		}
	}
}
