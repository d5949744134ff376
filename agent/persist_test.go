package agent

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// persistedConfig is a PoP config like the controller sends: services with
// communities, a next hop and peers, so that a damaged copy has many ways
// to decode into something else.
func persistedConfig() *v1.PopConfig {
	edge := service("edge", []string{"192.0.2.0/24", "2001:db8::/48"}, attrs)
	return &v1.PopConfig{
		Pop: "tokyo", Revision: 42, LocalAsn: 64512, RouterId: "192.0.2.254",
		NextHopIpv4: "203.0.113.1", NextHopIpv6: "2001:db8::1",
		Services: []*v1.ServiceAssignment{edge, service("dns", []string{"198.51.100.0/24"}, noCheck)},
		Peers:    []*v1.BgpPeer{{Address: "10.0.0.1", PeerAsn: 64500}, {Address: "10.0.0.2", PeerAsn: 64501}},
	}
}

// TestPersistedConfigRoundTrips: the config saved is the config loaded.
func TestPersistedConfigRoundTrips(t *testing.T) {
	dir := t.TempDir()
	want := persistedConfig()
	if err := saveConfig(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadConfig(dir)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("loaded %v, want %v", got, want)
	}
}

// TestDamagedPersistedConfigIsRefused: every truncation of a real
// persisted file, every single-byte change, an empty file and a file from
// before the framing are refused with an error naming the file, never
// decoded into a config that announces something else.
func TestDamagedPersistedConfigIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := saveConfig(dir, persistedConfig()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, configFile)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	unframed, err := proto.Marshal(persistedConfig())
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	check := func(what string, b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(dir)
		if err == nil || cfg != nil {
			accepted++
			if accepted <= 5 {
				t.Errorf("%s: loadConfig = %v, %v; want it refused", what, cfg, err)
			}
			return
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file %s", what, err, path)
		}
	}
	for n := range len(good) {
		check("truncated", good[:n])
	}
	for i := range good {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		check("byte changed", b)
	}
	check("old unframed file", unframed)
	if accepted > 0 {
		t.Errorf("%d damaged files of %d accepted", accepted, 2*len(good)+1)
	}
}

// TestAgentWaitsForTheControllerOnADamagedConfig: an agent whose persisted
// config is damaged logs an error naming the file, counts it in a metric
// and announces nothing until a controller sends a config.
func TestAgentWaitsForTheControllerOnADamagedConfig(t *testing.T) {
	dir := t.TempDir()
	if err := saveConfig(dir, persistedConfig()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, configFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	a, err := New(Config{
		Pop: "tokyo", StateDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Origination: Origination{AllowedPrefixes: []string{"192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	<-a.ready
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), path) {
		t.Errorf("logs %q: want an error naming %s", logs.String(), path)
	}
	if got := gauge(t, a, "anyctl_agent_persisted_config_refused"); got != 1 {
		t.Errorf("anyctl_agent_persisted_config_refused = %v, want 1", got)
	}
	// The report, and so `anyctl status`, says so too.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(a.Status().GetPersistedConfigRefused(), path); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("status %v: want persisted_config_refused naming %s", a.Status(), path)
		}
	}
	t.Logf("persisted_config_refused: %s", a.Status().GetPersistedConfigRefused())
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if st := a.Status(); st.GetConfigRevision() != 0 || len(st.GetPrefixes()) != 0 {
			t.Fatalf("status %v: the damaged config was used", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gauge is the value of the agent's gauge name, or -1 when it has none.
func gauge(t *testing.T, a *Agent, name string) float64 {
	t.Helper()
	mfs, err := a.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
