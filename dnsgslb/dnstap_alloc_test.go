package dnsgslb

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestDnstapWriterDoesNotAllocate: a query logged costs no allocation,
// on the answer path or in the writer writing its two messages to a file.
func TestDnstapWriterDoesNotAllocate(t *testing.T) {
	r := testResponderWith(t, Config{Dnstap: DnstapConfig{Output: filepath.Join(t.TempDir(), "q.dnstap"), Identity: "ns-test"}})
	stop, err := r.s.startTap()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("2001:db8::1")
	pkt := packed(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	logged := func() {
		want := r.tap.sent.Load() + 2
		r.handle(dst, pkt, src, false)
		for deadline := time.Now().Add(5 * time.Second); r.tap.sent.Load() < want; {
			if time.Now().After(deadline) {
				t.Fatalf("the writer wrote %d messages, want %d", r.tap.sent.Load(), want)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	logged() // the entries and the writer's buffers grow once
	if n := testing.AllocsPerRun(50, logged); n != 0 {
		t.Errorf("%.1f allocations per query logged, want 0", n)
	}
}
