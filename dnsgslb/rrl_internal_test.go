package dnsgslb

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// TestRRLBudget drives one table with a clock of its own: a budget lets
// its rate go at once, then one response per interval; budgets are
// independent; an idle one is full again.
func TestRRLBudget(t *testing.T) {
	l, err := newRRL(RRLConfig{ResponsesPerSecond: 10, Slip: 2, TableSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	const ms = 1000 // the clock is in microseconds
	now := uint64(5 * 1_000_000)
	allowed := func(h uint64, n int) int {
		got := 0
		for range n {
			if l.allow(h, now) {
				got++
			}
		}
		return got
	}
	a := uint64(0x1234_5678_9abc_def0)
	b := a ^ 1<<50 // same pair of slots, another tag
	if got := allowed(a, 50); got != 10 {
		t.Fatalf("burst: %d of 50 allowed, want 10", got)
	}
	if got := allowed(b, 50); got != 10 {
		t.Fatalf("another budget: %d of 50 allowed, want 10 (budgets must not share)", got)
	}
	now += 100 * ms
	if got := allowed(a, 50); got != 1 {
		t.Fatalf("100 ms later: %d allowed, want 1", got)
	}
	now += 10_000 * ms
	if got := allowed(a, 50); got != 10 {
		t.Fatalf("after 10 s idle: %d allowed, want 10", got)
	}
	// A third key in the same pair replaces the budget least ahead (b,
	// idle), not a, which is spending.
	c := a ^ 1<<51
	if got := allowed(c, 1); got != 1 {
		t.Fatalf("third key: %d allowed, want 1", got)
	}
	if got := allowed(a, 1); got != 0 {
		t.Fatal("the spent budget was replaced by a new key: an attacker could reset it")
	}
}

// TestRRLClockWrap: an entry left from more than 2^43 µs ago is not taken
// for one far ahead.
func TestRRLClockWrap(t *testing.T) {
	l, err := newRRL(RRLConfig{ResponsesPerSecond: 1, Slip: 0, TableSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	h := uint64(42)
	if !l.allow(h, 0) || l.allow(h, 0) {
		t.Fatal("rate 1: want one allowed, then none")
	}
	if !l.allow(h, (1<<rrlTimeBits)-rrlMaxSkew-1000) {
		t.Fatal("an entry from a wrapped clock blocks its key")
	}
}

func TestRRLConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		c    RRLConfig
		want string
	}{
		{RRLConfig{ResponsesPerSecond: -1}, "RRL.ResponsesPerSecond -1: want 0 (off) to 1000000"},
		{RRLConfig{ResponsesPerSecond: 10, Slip: 11}, "RRL.Slip 11: want 0 (drop all) to 10 (1 truncates all)"},
		{RRLConfig{ResponsesPerSecond: 10, IPv4PrefixLen: 33}, "RRL.IPv4PrefixLen 33: want 1 to 32 (0 for 24)"},
		{RRLConfig{ResponsesPerSecond: 10, IPv6PrefixLen: 129}, "RRL.IPv6PrefixLen 129: want 1 to 128 (0 for 56)"},
		{RRLConfig{ResponsesPerSecond: 10, Exempt: []netip.Prefix{{}}}, `RRL.Exempt[0] "invalid Prefix": not a network`},
	} {
		_, err := New(Config{Listen: "127.0.0.1:0", RRL: &tc.c})
		if err == nil || err.Error() != "dnsgslb: "+tc.want {
			t.Errorf("%+v: error %v, want %q", tc.c, err, "dnsgslb: "+tc.want)
		}
	}
}

// TestSlipReply: a slipped reply is the header and question with TC, the
// OPT record kept, every record dropped.
func TestSlipReply(t *testing.T) {
	r := testResponder(t)
	for _, ecs := range []string{"", "198.18.1.0/24"} {
		pkt := packed(t, "big.gslb.example.com.", dns.TypeTXT, ecs)
		pkt[2] |= 1 // RD
		reply := r.handle(make([]byte, 0, maxReply), pkt, netip.MustParseAddr("127.0.0.1"), true)
		slipped := slipReply(reply, &r.q, r.rcode)
		var m dns.Msg
		if err := m.Unpack(slipped); err != nil {
			t.Fatalf("ecs %q: slipped reply does not unpack: %v", ecs, err)
		}
		if !m.Truncated || !m.Response || len(m.Answer)+len(m.Ns) != 0 || m.Question[0].Name != "big.gslb.example.com." || !m.RecursionDesired {
			t.Errorf("ecs %q: slipped reply\n%v", ecs, &m)
		}
		if (m.IsEdns0() != nil) != (ecs != "") {
			t.Errorf("ecs %q: OPT record %v", ecs, m.IsEdns0())
		}
		if len(slipped) > len(pkt)+8 {
			t.Errorf("ecs %q: slipped reply of %d bytes to a query of %d", ecs, len(slipped), len(pkt))
		}
	}
}

// TestRRLWorkersClockSkew: UDP workers share the table, each with the
// clock it read at the start of its batch (stampBatch), so one worker's
// now is often a little behind another's. A budget spent to the full by
// one worker must not look impossible (ahead by more than tolerance and
// interval) to the other and be taken as fresh.
func TestRRLWorkersClockSkew(t *testing.T) {
	l, err := newRRL(RRLConfig{ResponsesPerSecond: 100, Slip: 0, TableSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	h := uint64(0x1234_5678_9abc_def0)
	// A flood of 100,000 responses a second for one budget, for one
	// second, alternating between worker A (clock now) and worker B,
	// whose batch stamp is 50 µs old.
	allowed := 0
	for us := uint64(1_000_000); us < 2_000_000; us += 10 {
		now := us
		if (us/10)%2 == 1 {
			now = us - 50
		}
		if l.allow(h, now) {
			allowed++
		}
	}
	// One second at 100/s with a burst of 100: about 200.
	if allowed > 250 {
		t.Fatalf("%d responses allowed in one second at 100/s (burst 100): budget reset by the skew between workers' clocks", allowed)
	}
}
