package controller

import (
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestConnLimitsAdmit(t *testing.T) {
	l := newLimitListener(nil, connLimits{max: 2, perIP: 1, local: 1}, slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) {})
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	lo := netip.MustParseAddr("127.0.0.1")
	steps := []struct {
		ip    netip.Addr
		local bool
		want  string // refusal reason, "" for admitted
	}{
		{a, false, ""},
		{a, false, "per_ip_limit"},
		{b, false, ""},
		{c, false, "limit"},
		{lo, true, ""}, // the local pool is apart from the general limit
		{lo, true, "local_limit"},
	}
	var releases []func()
	for i, s := range steps {
		release, reason := l.admit(s.ip, s.local)
		if reason != s.want {
			t.Fatalf("step %d: admit(%s, local=%v) refused for %q, want %q", i, s.ip, s.local, reason, s.want)
		}
		if release != nil {
			releases = append(releases, release)
		}
	}
	for _, r := range releases {
		r()
	}
	if l.total != 0 || l.local != 0 || len(l.perIP) != 0 {
		t.Errorf("after every release: total %d, local %d, per IP %v; want all zero", l.total, l.local, l.perIP)
	}
	if _, reason := l.admit(c, false); reason != "" {
		t.Errorf("after releases, %s refused for %q", c, reason)
	}
}

func TestConnLimitsConfig(t *testing.T) {
	for _, tc := range []struct {
		tweak func(*Config)
		want  string
	}{
		{func(c *Config) { c.MaxConnections = -1 }, "--max-connections -1"},
		{func(c *Config) { c.MaxConnectionsPerIP = -2 }, "--max-connections-per-ip -2"},
		{func(c *Config) { c.LocalConnections = -3 }, "--local-connections -3"},
		{func(c *Config) { c.HandshakeTimeout = time.Millisecond }, `--handshake-timeout "1ms"`},
	} {
		var c Config
		tc.tweak(&c)
		if err := c.checkConnLimits(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkConnLimits() = %v, want an error naming %s", err, tc.want)
		}
	}
	var c Config
	if err := c.checkConnLimits(); err != nil {
		t.Fatal(err)
	}
	if c.MaxConnections < 64 || c.MaxConnectionsPerIP != DefaultMaxConnectionsPerIP || c.LocalConnections != DefaultLocalConnections || c.HandshakeTimeout != DefaultHandshakeTimeout {
		t.Errorf("defaults: %d, %d, %d, %s", c.MaxConnections, c.MaxConnectionsPerIP, c.LocalConnections, c.HandshakeTimeout)
	}
}
