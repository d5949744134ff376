package cli

import (
	"io"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/spf13/pflag"
)

// logFlags are the structured-logging flags every daemon takes.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *pflag.FlagSet) { l.registerWithLevel(fs, "info") }

// registerWithLevel is register with another default level.
func (l *logFlags) registerWithLevel(fs *pflag.FlagSet, level string) {
	fs.StringVar(&l.level, "log-level", level, "log level: debug, info, warn, error")
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
}

// logger builds the slog logger the flags describe.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, UsageErrorf("--log-level %q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(l.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, UsageErrorf("--log-format %q: want text or json", l.format)
}

// parsePrefixes parses a flag's list of CIDR prefixes; host bits must be
// clear.
func parsePrefixes(flag string, vals []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(vals))
	for _, v := range vals {
		p, err := netip.ParsePrefix(strings.TrimSpace(v))
		if err != nil {
			return nil, UsageErrorf("--%s %q: not a CIDR prefix", flag, v)
		}
		if p.Masked() != p {
			return nil, UsageErrorf("--%s %q: host bits set; did you mean %q?", flag, v, p.Masked().String())
		}
		out = append(out, p)
	}
	return out, nil
}
