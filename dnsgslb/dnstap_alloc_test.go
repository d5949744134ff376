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

// TestDnstapEntriesShrink: an entry grown by a large reply (a TCP answer
// of tens of kilobytes) goes back to its usual size once written, so the
// queue does not keep that memory for every entry it ever used.
func TestDnstapEntriesShrink(t *testing.T) {
	r := testResponderWith(t, Config{Dnstap: DnstapConfig{Output: filepath.Join(t.TempDir(), "q.dnstap"), QueueSize: 8}})
	stop, err := r.s.startTap()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	pkt := packed(t, "www.gslb.example.com.", dns.TypeTXT, "")
	big := make([]byte, 60000)
	copy(big, pkt)
	for range 8 {
		r.tapLog(pkt, big, netip.MustParseAddr("192.0.2.1"), true, time.Now())
	}
	for deadline := time.Now().Add(5 * time.Second); r.tap.sent.Load() < 16; {
		if time.Now().After(deadline) {
			t.Fatalf("the writer wrote %d messages, want 16", r.tap.sent.Load())
		}
		time.Sleep(time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); len(r.tap.free) < 8; {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries back in the queue, want 8", len(r.tap.free))
		}
		time.Sleep(time.Millisecond)
	}
	for range 8 {
		if e := <-r.tap.free; cap(e.buf) > tapEntryKeep {
			t.Errorf("an entry keeps %d bytes after a large reply, want at most %d", cap(e.buf), tapEntryKeep)
		}
	}
}
