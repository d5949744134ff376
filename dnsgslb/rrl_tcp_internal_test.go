package dnsgslb

import (
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestTCPRespondersKeepNoRRLCounters: TCP is never rate limited, and the
// responders TCP queries are answered with come and go with their pool
// (each collection empties it); none of them adds counters to the rate
// limiter, which would keep them for ever. 50 TCP queries, each after the
// pool is emptied, leave the limiter with the UDP workers' counters only.
func TestTCPRespondersKeepNoRRLCounters(t *testing.T) {
	s := testServerWith(t, Config{}) // rate limiting on, as by default
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	serveUntilEnd(t, s)
	counters := func() int {
		s.rrl.mu.Lock()
		defer s.rrl.mu.Unlock()
		return len(s.rrl.stats)
	}
	before := counters()
	m := new(dns.Msg)
	m.SetQuestion("www.gslb.example.com.", dns.TypeA)
	q, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	_, addr := s.Addr()
	for range 50 {
		runtime.GC()
		runtime.GC()
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...))
		if err == nil {
			_, err = io.ReadFull(c, make([]byte, 2))
		}
		c.Close()
		if err != nil {
			t.Fatalf("TCP query: %v", err)
		}
	}
	if after := counters(); after != before {
		t.Errorf("the rate limiter holds %d responders' counters after 50 TCP queries, want %d (the UDP workers')", after, before)
	}
}
