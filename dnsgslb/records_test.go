package dnsgslb_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
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
