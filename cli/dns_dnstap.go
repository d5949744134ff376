package cli

import (
	"net"
	"strings"

	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/dnsgslb"
)

// dnstapFlags are the query logging flags of `anyctl dns`.
type dnstapFlags struct {
	output   string
	sample   int
	identity string
	queue    int
}

func (f *dnstapFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.output, "dnstap", "", "log queries in dnstap to unix:PATH (a collector's socket), tcp:HOST:PORT or a file (truncated); empty: off")
	fs.IntVar(&f.sample, "dnstap-sample", 1, "log one query in N (1: every query)")
	fs.StringVar(&f.identity, "dnstap-identity", "", "the dnstap messages' identity (default: --name)")
	fs.IntVar(&f.queue, "dnstap-queue", 4096, "queries waiting to be written; past it, queries are not logged (and counted), never delayed")
}

// options checks the flags; every error names the flag and its value.
// name is the server's name, the default identity.
func (f *dnstapFlags) options(name string) (dnsgslb.DnstapConfig, error) {
	switch {
	case f.sample < 1:
		return dnsgslb.DnstapConfig{}, UsageErrorf("--dnstap-sample %d: want 1 or more", f.sample)
	case f.queue < 1 || f.queue > 1<<20:
		return dnsgslb.DnstapConfig{}, UsageErrorf("--dnstap-queue %d: want 1 to %d", f.queue, 1<<20)
	case strings.HasPrefix(f.output, "unix:") && len(f.output) == len("unix:"):
		return dnsgslb.DnstapConfig{}, UsageErrorf("--dnstap %q: want unix:PATH", f.output)
	}
	if addr, ok := strings.CutPrefix(f.output, "tcp:"); ok {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return dnsgslb.DnstapConfig{}, UsageErrorf("--dnstap %q: want tcp:HOST:PORT: %v", f.output, err)
		}
	}
	identity := f.identity
	if identity == "" {
		identity = name
	}
	return dnsgslb.DnstapConfig{Output: f.output, Sample: f.sample, Identity: identity, Version: "anyctl " + Version, QueueSize: f.queue}, nil
}
