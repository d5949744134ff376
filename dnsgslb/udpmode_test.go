package dnsgslb_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestUDPModes serves through each UDP design: netpoller workers sharing a
// port, a worker blocking in recvmmsg, and the default (blocking here).
// Each answers UDP and TCP and stops when the context is cancelled (checked
// by run's cleanup).
func TestUDPModes(t *testing.T) {
	for _, cfg := range []dnsgslb.Config{
		{UDPWorkers: 3, UDPMode: dnsgslb.UDPNetpoller},
		{UDPWorkers: 1, UDPMode: dnsgslb.UDPBlocking},
		{UDPWorkers: 2},
	} {
		t.Run(cfg.UDPMode.String(), func(t *testing.T) {
			ts := run(t, newServerWith(t, cfg, gslbtest.Snapshot()))
			want := []string{a("nearest", gslbtest.APNortheast4)}
			for i := range 50 {
				network := "udp"
				if i%10 == 0 {
					network = "tcp"
				}
				r := ts.exchange(t, network, msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.Tokyo))
				if got := rrs(r.Answer); !equal(got, want) {
					t.Fatalf("%s query %d: %q, want %q", network, i, got, want)
				}
			}
		})
	}
}
