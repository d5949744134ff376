package etcdembed

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"go.uber.org/zap"
)

func TestZapToSlog(t *testing.T) {
	tests := []struct {
		name     string
		log      func(*zap.Logger)
		stopping bool
		want     string // substring of the output; "" means no output
	}{
		{"warning passes with fields", func(l *zap.Logger) { l.Warn("disk slow", zap.Int("took-ms", 900)) }, false, `level=WARN msg="disk slow" component=etcd took-ms=900`},
		{"error passes", func(l *zap.Logger) { l.Error("boom", zap.Error(errors.New("bad"))) }, false, `level=ERROR msg=boom component=etcd error=bad`},
		{"fields from With", func(l *zap.Logger) { l.With(zap.String("member", "m1")).Warn("w") }, false, `member=m1`},
		{"info dropped", func(l *zap.Logger) { l.Info("chatty") }, false, ""},
		{"known noise dropped", func(l *zap.Logger) { l.Warn("simple token is not cryptographically signed") }, false, ""},
		{"start race dropped", func(l *zap.Logger) {
			l.Error("failed to update storage version", zap.Error(errors.New("cannot detect storage schema version: missing term information")))
		}, false, ""},
		{"a full disk says what to do", func(l *zap.Logger) {
			l.Error("failed to save Raft hard state and entries", zap.Error(fmt.Errorf("write member/wal/0.tmp: %w", syscall.ENOSPC)))
		}, false, `remedy="the file system of the data dir is full: free space there`},
		{"everything dropped while stopping", func(l *zap.Logger) { l.Error("http: Server closed") }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			stopping := new(atomic.Bool)
			stopping.Store(tt.stopping)
			tt.log(newZapLogger(slog.New(slog.NewTextHandler(&buf, nil)), stopping))
			got := buf.String()
			if tt.want == "" && got != "" {
				t.Errorf("logged %q, want nothing", got)
			}
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("logged %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
