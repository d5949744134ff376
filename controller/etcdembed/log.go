package etcdembed

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// quietMessages are warnings etcd prints on every start of a loopback,
// single-member server. They describe choices this package makes on purpose,
// so they would only teach operators to ignore etcd's warnings.
var quietMessages = map[string]bool{
	"Running http and grpc server on single port. This is not recommended for production.": true,
	// About auth tokens; auth is off.
	"simple token is not cryptographically signed": true,
}

// transientAtStart reports the storage-version check that a fresh member
// runs before its first backend commit: it fails with "missing term
// information", logs an error and succeeds on its next round a few seconds
// later.
func transientAtStart(fields []zapcore.Field) bool {
	for _, f := range fields {
		if err, ok := f.Interface.(error); ok && f.Type == zapcore.ErrorType && strings.Contains(err.Error(), "missing term information") {
			return true
		}
	}
	return false
}

// newZapLogger returns a zap logger that hands warnings and errors to logger
// and drops everything below warn: etcd is chatty at info. Once stopping is
// set it drops everything: a stopping etcd reports each closed listener as
// an error.
func newZapLogger(logger *slog.Logger, stopping *atomic.Bool) *zap.Logger {
	return zap.New(&slogCore{logger: logger.With("component", "etcd"), stopping: stopping})
}

// slogCore is a zapcore.Core writing to a slog.Logger. It is immutable; With
// returns a new core.
type slogCore struct {
	logger   *slog.Logger
	stopping *atomic.Bool
	fields   []zapcore.Field
}

func (c *slogCore) Enabled(l zapcore.Level) bool { return l >= zapcore.WarnLevel }

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	merged := make([]zapcore.Field, 0, len(c.fields)+len(fields))
	merged = append(merged, c.fields...)
	merged = append(merged, fields...)
	return &slogCore{logger: c.logger, stopping: c.stopping, fields: merged}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !c.Enabled(e.Level) || quietMessages[e.Message] || c.stopping.Load() {
		return ce
	}
	return ce.AddCore(e, c)
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if transientAtStart(fields) {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	if msg, _ := enc.Fields["error"].(string); strings.Contains(msg, syscall.ENOSPC.Error()) {
		attrs = append(attrs, slog.String("remedy", diskFullAdvice))
	}
	c.logger.LogAttrs(context.Background(), slogLevel(e.Level), e.Message, attrs...)
	return nil
}

// diskFullAdvice is added to etcd's messages of a write that failed for a
// full file system: etcd stops on such a failure, and the controller with
// it.
const diskFullAdvice = "the file system of the data dir is full: free space there (or move the data dir to a larger one), then start the controller again; " +
	"writes in flight have an unknown outcome: check them with anyctl get"

func (c *slogCore) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return slog.LevelError
	case l >= zapcore.WarnLevel:
		return slog.LevelWarn
	case l >= zapcore.InfoLevel:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
