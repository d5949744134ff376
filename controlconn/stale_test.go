package controlconn_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controlconn"
)

// TestStalenessLimit: a stream ends once its replica goes without a
// confirmation for the configured limit or three of the replica's
// intervals, whichever is longer, counted from the confirmation's time
// (received less its age), not from when it arrived; a replica that
// never says it confirms is not held to it.
func TestStalenessLimit(t *testing.T) {
	for _, tc := range []struct {
		name       string
		staleAfter time.Duration
		interval   time.Duration
		age        time.Duration
		// want is when the stream ends, after the confirmation arrives.
		want time.Duration
		says string
	}{
		{"the configured limit", 300 * time.Millisecond, 50 * time.Millisecond, 0, 300 * time.Millisecond, "--test-stale-after 300ms"},
		{"three of a longer interval", 100 * time.Millisecond, 200 * time.Millisecond, 0, 600 * time.Millisecond, "--test-stale-after 600ms"},
		{"less the confirmation's age", 400 * time.Millisecond, 0, 300 * time.Millisecond, 100 * time.Millisecond, "--test-stale-after 400ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			s := controlconn.NewStaleness(tc.staleAfter, "--test-stale-after", cancel)
			defer s.Stop()
			start := time.Now()
			s.Take(tc.interval, true, tc.age)
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the stream did not end")
			}
			took := time.Since(start)
			if took < tc.want || took > tc.want+2*time.Second {
				t.Errorf("ended after %s; want %s", took, tc.want)
			}
			if cause := context.Cause(ctx); !errors.Is(cause, controlconn.ErrStale) || !strings.Contains(cause.Error(), tc.says) {
				t.Errorf("cause %v; want ErrStale saying %q", cause, tc.says)
			}
		})
	}
	t.Run("a replica that never confirms", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		s := controlconn.NewStaleness(10*time.Millisecond, "--test-stale-after", cancel)
		defer s.Stop()
		select {
		case <-ctx.Done():
			t.Fatalf("a stream whose replica never said it confirms ended: %v", context.Cause(ctx))
		case <-time.After(200 * time.Millisecond):
		}
		if s.Confirms() {
			t.Error("Confirms before the replica said so")
		}
	})
}
