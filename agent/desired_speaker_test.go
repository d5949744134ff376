package agent

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

// startSpeaker runs a real speaker with no peers until the test ends.
func startSpeaker(t *testing.T) *speaker.Speaker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sp, err := speaker.Start(ctx, speaker.Config{ASN: 64512, RouterID: netip.MustParseAddr("192.0.2.254"), ListenPort: -1})
	if err != nil {
		t.Fatalf("starting speaker: %v", err)
	}
	t.Cleanup(func() { _ = sp.Stop(context.Background(), "test over") })
	return sp
}

// TestDesiredSetIsAcceptedBySpeaker hands desired's set for configs that
// each hold one thing the speaker refuses a whole set for to a real
// speaker: the set must be taken, with the good service in it.
func TestDesiredSetIsAcceptedBySpeaker(t *testing.T) {
	good := service("good", []string{"198.51.100.0/24"})
	tests := []struct {
		name string
		cfg  *v1.PopConfig
	}{
		{"a drain past 16 prepends", popConfig(service("edge", v4, attrs, prepend(15), mode(v1.AnnounceMode_ANNOUNCE_MODE_DRAINING)), good)},
		{"shutting down past 16 prepends", popConfig(service("edge", v4, prepend(16), func(s *v1.ServiceAssignment) { s.DrainPrepend = 3 }), good)},
		{"an own prepend above 16", popConfig(service("edge", v4, prepend(40)), good)},
		{"a prefix in two services", popConfig(service("edge", []string{"198.51.100.0/24"}), good)},
		{"a prefix twice in a service", popConfig(service("edge", []string{"192.0.2.0/24", "192.0.2.0/24"}), good)},
		{"host bits", popConfig(service("edge", []string{"192.0.2.7/24"}), good)},
		{"a next hop of the wrong family", func() *v1.PopConfig {
			c := popConfig(service("edge", []string{"2001:db8:53::/48"}), good)
			c.NextHopIpv6 = "203.0.113.1"
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := startSpeaker(t)
			healthy := map[string]bool{"edge": true, "good": true}
			anns, _ := desired(view{cfg: accept(tt.cfg), healthy: healthy, shuttingDown: true, policy: testPolicy()})
			if err := sp.SetAnnouncements(context.Background(), anns); err != nil {
				t.Fatalf("speaker refused desired's set %v: %v", anns, err)
			}
			var held []string
			for _, a := range sp.Announced() {
				held = append(held, a.Prefix.String())
			}
			if !slices.Contains(held, "198.51.100.0/24") {
				t.Errorf("speaker announces %v, want the good service's 198.51.100.0/24 among them", held)
			}
		})
	}
}

// TestDrainedPrependFitsTheSpeaker checks that the most prepends validation
// lets a service ask for, plus a drain's, is what the speaker sends.
func TestDrainedPrependFitsTheSpeaker(t *testing.T) {
	if got := validation.MaxAsPathPrepend + compile.DrainPrepend; got != speaker.MaxPrepend {
		t.Errorf("validation.MaxAsPathPrepend %d + compile.DrainPrepend %d = %d, want speaker.MaxPrepend %d",
			validation.MaxAsPathPrepend, compile.DrainPrepend, got, speaker.MaxPrepend)
	}
}
