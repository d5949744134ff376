package dnsgslb_test

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestDnstapStopStalled: a collector that took the handshake and stopped
// reading does not hold up the server's exit, with thousands of
// messages queued for it.
func TestDnstapStopStalled(t *testing.T) {
	sock := stalledCollector(t, true)
	s := newServerWith(t, dnsgslb.Config{Dnstap: dnsgslb.DnstapConfig{Output: "unix:" + sock}}, gslbtest.Snapshot())
	ts, stop := runUntil(t, s)
	for range 3000 {
		ts.exchange(t, "udp", msg(t, "txt.gslb.example.com.", dns.TypeTXT, ""))
	}
	// The writer is blocked on the full socket.
	awaitMetric(t, s, "anyctl_dns_dnstap_messages_total{}", func(v float64) bool { return v > 0 })
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run took %v to return after cancel with a stalled collector", d)
	}
}
