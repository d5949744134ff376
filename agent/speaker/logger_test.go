package speaker

import (
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

func TestGoBGPLoggerKeepsWarningsAndAbove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		emit func(gobgpLogger)
		want string // empty: nothing logged
	}{
		{"warn", func(l gobgpLogger) { l.Warn("failed to set md5", gobgplog.Fields{"Key": "192.0.2.1", "Topic": "Peer"}) },
			`level=WARN msg="failed to set md5" component=gobgp Key=192.0.2.1 Topic=Peer`},
		{"error", func(l gobgpLogger) { l.Error("boom", nil) }, `level=ERROR msg=boom component=gobgp`},
		{"fatal returns", func(l gobgpLogger) { l.Fatal("fatal", nil) }, `level=ERROR msg=fatal`},
		{"info dropped", func(l gobgpLogger) { l.Info("Add a peer configuration", nil) }, ""},
		{"debug dropped", func(l gobgpLogger) { l.Debug("try to connect", nil) }, ""},
		{"problem lines dropped too", func(l gobgpLogger) { l.Debug("failed to connect", gobgplog.Fields{"Key": "192.0.2.1"}) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.emit(gobgpLogger{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			got := buf.String()
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("logged %q, want it to contain %q", got, tt.want)
			}
		})
	}
	if lvl := (gobgpLogger{}).GetLevel(); lvl != gobgplog.DebugLevel {
		t.Errorf("GetLevel = %v, want DebugLevel: GoBGP reports failed connection attempts only at that level", lvl)
	}
}

// TestGoBGPLoggerNotesSessionProblems checks that the lines saying why a
// session is not up reach the problem callback, whatever their level.
func TestGoBGPLoggerNotesSessionProblems(t *testing.T) {
	t.Parallel()
	var got []string
	l := gobgpLogger{log: slog.New(slog.DiscardHandler), problem: func(a netip.Addr, text string) { got = append(got, a.String()+" "+text) }}
	l.Debug("failed to connect", gobgplog.Fields{"Key": "192.0.2.1", "Error": os.ErrDeadlineExceeded})
	l.Warn("received notification", gobgplog.Fields{"Key": "192.0.2.1", "Code": uint8(6), "Subcode": uint8(2), "Communicated-Reason": "maintenance"})
	l.Info("Administrative shutdown(Prefix limit reached)", gobgplog.Fields{"Key": "192.0.2.1"})
	l.Debug("sent update", gobgplog.Fields{"Key": "192.0.2.1"})
	want := []string{
		"192.0.2.1 connect: i/o timeout: no answer: the neighbour is unreachable, does not expect a session from this address, or its TCP MD5 password differs (a wrong password is dropped silently)",
		`192.0.2.1 received NOTIFICATION code 6(cease) subcode 2(administrative shutdown): "maintenance"`,
		"192.0.2.1 closed: the neighbour sent more prefixes than its inbound cap (maxPrefixesIn); it is retried after the idle hold time",
	}
	if !slices.Equal(got, want) {
		t.Errorf("noted\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
