package speaker

import (
	"bytes"
	"log/slog"
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
	if lvl := (gobgpLogger{}).GetLevel(); lvl != gobgplog.WarnLevel {
		t.Errorf("GetLevel = %v, want WarnLevel so GoBGP skips building debug fields", lvl)
	}
}
