package speaker

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// gobgpLogger passes GoBGP's warnings and errors to slog and drops the rest.
// Reporting WarnLevel from GetLevel also keeps GoBGP from building debug
// fields it would throw away.
type gobgpLogger struct {
	log *slog.Logger
	// problem receives why a session is not up, from the lines that say so.
	problem func(addr netip.Addr, text string)
}

var _ gobgplog.Logger = gobgpLogger{}

func (l gobgpLogger) emit(level slog.Level, msg string, fields gobgplog.Fields) {
	l.note(msg, fields)
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys)+1)
	attrs = append(attrs, slog.String("component", "gobgp"))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, fields[k]))
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}

// Panic logs and panics: GoBGP calls it on its own logic bugs only.
func (l gobgpLogger) Panic(msg string, fields gobgplog.Fields) {
	l.emit(slog.LevelError, msg, fields)
	panic(fmt.Sprintf("gobgp: %s", msg))
}

// Fatal logs at error level and returns: a library never exits the process.
func (l gobgpLogger) Fatal(msg string, fields gobgplog.Fields) {
	l.emit(slog.LevelError, msg, fields)
}

func (l gobgpLogger) Error(msg string, fields gobgplog.Fields) {
	l.emit(slog.LevelError, msg, fields)
}

func (l gobgpLogger) Warn(msg string, fields gobgplog.Fields) {
	l.emit(slog.LevelWarn, msg, fields)
}

// note passes a line about a session problem to problem.
func (l gobgpLogger) note(msg string, fields gobgplog.Fields) {
	if l.problem == nil {
		return
	}
	if addr, text := sessionProblem(msg, fields); text != "" {
		l.problem(addr, text)
	}
}

// Info and Debug lines are dropped, but for the few that say why a
// session is not up.
func (l gobgpLogger) Info(msg string, fields gobgplog.Fields)  { l.note(msg, fields) }
func (l gobgpLogger) Debug(msg string, fields gobgplog.Fields) { l.note(msg, fields) }

// SetLevel is ignored: the level is fixed.
func (gobgpLogger) SetLevel(gobgplog.LogLevel) {}

// GetLevel says debug: GoBGP reports a failed connection attempt only at
// that level. The few debug lines it guards with this level are per
// UPDATE, not per route.
func (gobgpLogger) GetLevel() gobgplog.LogLevel { return gobgplog.DebugLevel }
