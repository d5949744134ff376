package upstream

import (
	"context"
	"net/netip"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
)

func TestStartTwoRouters(t *testing.T) {
	ctx := context.Background()
	loopback := netip.MustParseAddr("127.0.0.1")
	var routers []*Router
	for range 2 {
		r, err := Start(ctx, Config{ASN: 64500, Listen: loopback})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Stop)
		routers = append(routers, r)
	}
	a, b := routers[0], routers[1]
	if a.Port() == 0 || a.Port() == b.Port() {
		t.Fatalf("ports %d and %d: want two distinct free ports", a.Port(), b.Port())
	}
	if a.Addr() != loopback || a.ASN() != 64500 {
		t.Errorf("router on %s in AS%d, want %s in AS64500", a.Addr(), a.ASN(), loopback)
	}
	if err := a.AddNeighbor(ctx, netip.MustParseAddr("127.0.0.2"), 64512, WithFamilies(speaker.IPv4Unicast, speaker.IPv6Unicast)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []speaker.Family{speaker.IPv4Unicast, speaker.IPv6Unicast} {
		if n, err := a.Destinations(ctx, f); err != nil || n != 0 {
			t.Errorf("Destinations(%s) = %d, %v; want 0 before any session", f, n, err)
		}
	}
	if got := a.LastNotification(); got != "" {
		t.Errorf("LastNotification = %q before any session", got)
	}
}

func TestStartNeedsAnAddress(t *testing.T) {
	if r, err := Start(context.Background(), Config{ASN: 64500}); err == nil {
		r.Stop()
		t.Fatal("Start without a listen address succeeded")
	}
}
