//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestIdleWorkerStopsCoalescing floods a blocking worker until it
// coalesces, then sends nothing: once its receive times out and it waits
// for the next datagram in ppoll it is no longer busy, and the gauge must
// say so while it waits, however long, not only at the next datagram.
func TestIdleWorkerStopsCoalescing(t *testing.T) {
	s := testServerWith(t, Config{UDPWorkers: 1, UDPMode: UDPBlocking, UDPCoalesce: 200 * time.Microsecond})
	s.coalesceBusy = 0 // coalesce whenever datagrams come fast enough
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	serveUntilEnd(t, s)
	udp, _ := s.Addr()
	c, err := net.DialUDP("udp", nil, udp.(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	q := new(dns.Msg)
	q.SetQuestion("nearest.gslb.example.com.", dns.TypeA)
	pkt, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}

	for round := range 3 {
		stop, flooded := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(flooded)
			for {
				select {
				case <-stop:
					return
				default:
					c.Write(pkt)
				}
			}
		}()
		awaitGauge(t, s, 1, 10*time.Second, fmt.Sprintf("round %d, under a flood", round+1))
		close(stop)
		<-flooded
		awaitGauge(t, s, 0, 2*time.Second, fmt.Sprintf("round %d, idle", round+1))
	}
}

// awaitGauge polls anyctl_dns_udp_workers_coalescing until it is want.
func awaitGauge(t *testing.T, s *Server, want float64, within time.Duration, when string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := exported(t, s, "anyctl_dns_udp_workers_coalescing")
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v workers coalescing after %v, want %v", when, n, within, want)
		}
		time.Sleep(time.Millisecond)
	}
}
