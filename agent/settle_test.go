package agent

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func TestSettle(t *testing.T) {
	const cause = "the BGP speaker did not take the set: boom"
	tests := []struct {
		name      string
		cfg       *v1.PopConfig
		healthy   map[string]bool
		announced []speaker.Announcement
		states    []want
	}{
		{
			name:    "nothing held: announced prefixes are not",
			cfg:     popConfig(service("edge", v4v6)),
			healthy: up,
			states:  []want{{"192.0.2.0/24", false, false, "not announced: " + cause}, {"2001:db8:53::/48", false, false, "not announced: " + cause}},
		},
		{
			name:      "part held: only the held prefix is announced",
			cfg:       popConfig(service("edge", v4v6)),
			healthy:   up,
			announced: []speaker.Announcement{ann("2001:db8:53::/48")},
			states:    []want{{"192.0.2.0/24", false, false, "not announced: " + cause}, {"2001:db8:53::/48", true, false, "healthy"}},
		},
		{
			name:      "a withdrawal not made: still announced",
			cfg:       popConfig(service("edge", v4)),
			healthy:   map[string]bool{"edge": false},
			announced: []speaker.Announcement{ann("192.0.2.0/24")},
			states:    []want{{"192.0.2.0/24", true, false, "still announced: " + cause}},
		},
		{
			name:      "a prefix in two services, held for the first: the refused listing stays refused",
			cfg:       popConfig(service("a", v4), service("b", v4)),
			healthy:   map[string]bool{"a": true, "b": true},
			announced: []speaker.Announcement{ann("192.0.2.0/24")},
			states:    []want{{"192.0.2.0/24", true, false, "healthy"}, {"192.0.2.0/24", false, true, "refused: prefix"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, states := desired(view{cfg: accept(tt.cfg), healthy: tt.healthy, policy: testPolicy()})
			settle(states, tt.announced, cause)
			checkStates(t, tt.states, states)
		})
	}
}

// TestReconcileReportsWhatTheSpeakerAnnounces runs a reconcile against a
// speaker that takes no set (it has stopped): the status must not claim
// the prefix announced.
func TestReconcileReportsWhatTheSpeakerAnnounces(t *testing.T) {
	a, err := New(Config{
		Pop:         "tokyo",
		StateDir:    t.TempDir(),
		Origination: Origination{AllowedPrefixes: []string{"192.0.2.0/24"}},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	l := newLoop(a)
	l.cfg = accept(popConfig(service("edge", v4, noCheck)))
	l.sp = startSpeaker(t)
	if err := l.sp.Stop(context.Background(), "test over"); err != nil {
		t.Fatal(err)
	}
	l.reconcile(context.Background())
	st := a.Status().GetPrefixes()
	if len(st) != 1 || st[0].GetAnnounced() || !strings.HasPrefix(st[0].GetReason(), "not announced: the BGP speaker did not take the set: ") {
		t.Errorf("prefix status %v, want 192.0.2.0/24 not announced, saying the speaker did not take the set", st)
	}
}
