package dnsgslb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// signedState is what the server shows of its keys: the tags of its
// DNSKEY RRset and of the RRSIGs over an A answer, as "dnskey 1 2 / sig 1".
func signedState(t *testing.T, server string) string {
	t.Helper()
	tags := func(qname string, qtype uint16, want uint16) string {
		m := new(dns.Msg)
		m.SetQuestion(qname, qtype)
		m.SetEdns0(4096, true)
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, server)
		if err != nil {
			t.Fatalf("%s %s: %v", qname, dns.TypeToString[qtype], err)
		}
		var out []string
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.DNSKEY:
				if want == dns.TypeDNSKEY {
					out = append(out, fmt.Sprint(rr.KeyTag()))
				}
			case *dns.RRSIG:
				if want == dns.TypeRRSIG {
					out = append(out, fmt.Sprint(rr.KeyTag))
				}
			}
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	return "dnskey " + tags(gslbtest.Zone, dns.TypeDNSKEY, dns.TypeDNSKEY) + " / sig " + tags("www."+gslbtest.Zone, dns.TypeA, dns.TypeRRSIG)
}

// awaitStates polls the server's signed state until it is the last of
// want, failing when it shows a state not in want or one before a state
// it showed already: the states must come in order, each possibly too
// briefly to be seen. It gives up after within.
func awaitStates(t *testing.T, server string, within time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	seen, at := []string{}, 0
	for {
		got := signedState(t, server)
		i := slices.Index(want, got)
		if i < at {
			t.Fatalf("signed state %q after %q; want them in the order %q", got, seen, want)
		}
		if len(seen) == 0 || seen[len(seen)-1] != got {
			seen = append(seen, got)
		}
		at = i
		if i == len(want)-1 {
			t.Logf("signed states seen: %q", seen)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("signed states seen in %v: %q; want them to reach %q", within, seen, want[len(want)-1])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKeyTimingTakesEffect checks that a running server follows its keys'
// timing without a restart or a signal: a key added to the directory with
// a publish time ahead, read by ReloadKeys (SIGHUP) before that time, is
// published at its time, signs from its activation, and the key it
// replaces stops signing and leaves the DNSKEY RRset at theirs. Each
// change comes seconds apart, far sooner than the minute the server
// waits between readings of the directory: the server wakes at each key
// event.
func TestKeyTimingTakesEffect(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().Truncate(time.Second)
	old, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, start.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	o := fmt.Sprint(old.Tag())
	if got, want := signedState(t, ts.tcp), "dnskey "+o+" / sig "+o; got != want {
		t.Fatalf("before: %q, want %q", got, want)
	}

	next, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, start)
	if err != nil {
		t.Fatal(err)
	}
	nt := next.Timing
	nt.Publish, nt.Activate = start.Add(3*time.Second), start.Add(6*time.Second)
	if err := next.SetTiming(nt); err != nil {
		t.Fatal(err)
	}
	ot := old.Timing
	ot.Inactive, ot.Delete = nt.Activate, start.Add(9*time.Second)
	if err := old.SetTiming(ot); err != nil {
		t.Fatal(err)
	}
	if err := ts.ReloadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := fmt.Sprint(next.Tag())
	both := strings.Join(slices.Sorted(slices.Values([]string{o, n})), " ")
	awaitStates(t, ts.tcp, 30*time.Second,
		"dnskey "+o+" / sig "+o,
		"dnskey "+both+" / sig "+o,
		"dnskey "+both+" / sig "+n,
		"dnskey "+n+" / sig "+n)
	if now := time.Now(); now.Before(ot.Delete) {
		t.Errorf("old key gone at %v, before its delete time %v", now, ot.Delete)
	}
}
