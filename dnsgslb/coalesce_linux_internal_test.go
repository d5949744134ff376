//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestCoalescingWorkerAnswersEveryQuery serves bursts of real UDP queries
// from a blocking worker made to coalesce at any CPU share: it waits
// between batches (counted in the metrics) and still answers every query,
// correctly; with UDPCoalesce negative it never waits; and stopping the
// server while it coalesces under a flood ends the worker.
func TestCoalescingWorkerAnswersEveryQuery(t *testing.T) {
	for _, tc := range []struct {
		wait     time.Duration
		coalesce bool
	}{{200 * time.Microsecond, true}, {-1, false}} {
		s := testServerWith(t, Config{UDPWorkers: 1, UDPMode: UDPBlocking, UDPCoalesce: tc.wait})
		s.coalesceBusy = 0 // coalesce whenever datagrams come fast enough
		if err := s.Update(gslbtest.Snapshot()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		<-s.Ready()
		udp, _ := s.Addr()

		c, err := net.DialUDP("udp", nil, udp.(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		const queries, burst = 4000, 50
		q := new(dns.Msg)
		q.SetQuestion("nearest.gslb.example.com.", dns.TypeA)
		// Loopback is placed at the default location, 0,0: the nearest
		// origin is eu-west.
		want := "nearest.gslb.example.com.\t30\tIN\tA\t" + gslbtest.EUWest4
		buf := make([]byte, 4096)
		for sent := 0; sent < queries; sent += burst {
			for i := range burst {
				q.Id = uint16(sent + i)
				pkt, err := q.Pack()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Write(pkt); err != nil {
					t.Fatal(err)
				}
			}
			seen := make(map[uint16]bool, burst)
			for len(seen) < burst {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, err := c.Read(buf)
				if err != nil {
					t.Fatalf("wait %v: queries %d to %d: %d answered: %v", tc.wait, sent, sent+burst-1, len(seen), err)
				}
				r := new(dns.Msg)
				if err := r.Unpack(buf[:n]); err != nil {
					t.Fatal(err)
				}
				if len(r.Answer) != 1 || r.Answer[0].String() != want || r.Id < uint16(sent) || r.Id >= uint16(sent+burst) {
					t.Fatalf("wait %v: reply %d: %v, want %q for a query %d to %d", tc.wait, r.Id, r.Answer, want, sent, sent+burst-1)
				}
				seen[r.Id] = true
			}
		}

		// The wait after the last batch may still be counted: the
		// worker waits after sending its replies.
		coalesced := exported(t, s, "anyctl_dns_udp_coalesced_batches_total")
		switch {
		case tc.coalesce && coalesced == 0:
			t.Errorf("wait %v: the worker never waited between %d bursts of %d queries", tc.wait, queries/burst, burst)
		case !tc.coalesce && coalesced != 0:
			t.Errorf("wait %v: the worker waited after %v batches", tc.wait, coalesced)
		}
		t.Logf("wait %v: waited after %v batches", tc.wait, coalesced)

		// Stop while queries keep coming: for the coalescing worker, once
		// it says it coalesces.
		flood := make(chan struct{})
		go func() {
			pkt, _ := q.Pack()
			for {
				select {
				case <-flood:
					return
				default:
					c.Write(pkt)
				}
			}
		}()
		for deadline := time.Now().Add(10 * time.Second); tc.coalesce && exported(t, s, "anyctl_dns_udp_workers_coalescing") != 1; {
			if time.Now().After(deadline) {
				t.Fatalf("wait %v: the worker does not say it coalesces under a flood", tc.wait)
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the server did not stop")
		}
		close(flood)
		c.Close()
		if n := exported(t, s, "anyctl_dns_udp_workers_coalescing"); n != 0 {
			t.Errorf("wait %v: %v workers still say they coalesce after the server stopped", tc.wait, n)
		}
	}
}
