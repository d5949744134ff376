package agent

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controlconn"
)

// validConfig is the smallest config that validates.
func validConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		Pop:         "tokyo",
		StateDir:    filepath.Join(t.TempDir(), "state"),
		Origination: Origination{AllowedPrefixes: []string{"192.0.2.0/24"}},
	}
}

func TestConfigValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no pop", func(c *Config) { c.Pop = "" }, "pop: required"},
		{"no state dir", func(c *Config) { c.StateDir = "" }, "stateDir: required"},
		{"controller without port", func(c *Config) { c.Controller = "ctrl.example.net" }, `controller "ctrl.example.net": want host:port`},
		{"controller list entry without port", func(c *Config) { c.Controller = "10.0.0.1:7400, 10.0.0.2" }, `controller "10.0.0.1:7400, 10.0.0.2": controller address "10.0.0.2": want host:port`},
		{"controllers entry holding a list", func(c *Config) { c.Controllers = []string{"10.0.0.1:7400,10.0.0.2:7400"} }, `controllers: entry "10.0.0.1:7400,10.0.0.2:7400": one address per list entry`},
		{"metrics listen without port", func(c *Config) { c.MetricsListen = "localhost" }, `metricsListen "localhost": want host:port`},
		{"no allowed prefixes", func(c *Config) { c.Origination.AllowedPrefixes = nil }, "origination.allowedPrefixes: required"},
		{"allowed prefix not CIDR", func(c *Config) { c.Origination.AllowedPrefixes = []string{"192.0.2.0/24", "192.0.2.0/33"} },
			`origination.allowedPrefixes[1] "192.0.2.0/33": not a CIDR prefix`},
		{"allowed prefix without length", func(c *Config) { c.Origination.AllowedPrefixes = []string{"2001:db8::"} },
			`origination.allowedPrefixes[0] "2001:db8::": not a CIDR prefix`},
		{"allowed prefix with host bits", func(c *Config) { c.Origination.AllowedPrefixes = []string{"192.0.2.1/24"} },
			`origination.allowedPrefixes[0] "192.0.2.1/24": host bits set; did you mean "192.0.2.0/24"?`},
		{"negative cap", func(c *Config) { c.Origination.MaxPrefixesPerPeer = -5 }, "origination.maxPrefixesPerPeer -5: must not be negative"},
		{"controller stale after under a second", func(c *Config) { c.ControllerStaleAfter = Duration(500 * time.Millisecond) },
			`controllerStaleAfter "500ms": want at least 1s`},
		{"negative controller stale after", func(c *Config) { c.ControllerStaleAfter = Duration(-time.Second) },
			`controllerStaleAfter "-1s": want at least 1s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.change(&c)
			p, err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = %+v, nil; want an error containing %q", p, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() error %q; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfigValidateDefaults(t *testing.T) {
	c := validConfig(t)
	p, err := c.Validate()
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.ControllerStaleAfter != Duration(controlconn.DefaultStaleAfter) {
		t.Errorf("default controllerStaleAfter %v; want %v", time.Duration(c.ControllerStaleAfter), controlconn.DefaultStaleAfter)
	}
	if c.ShutdownGrace != Duration(defaultShutdownGrace) || c.StatusInterval != Duration(defaultStatusInterval) || c.BGPListenPort != -1 || c.Logger == nil {
		t.Errorf("defaults: shutdownGrace %v, statusInterval %v, bgpListenPort %d, logger %v; want %v, %v, -1 and a logger",
			time.Duration(c.ShutdownGrace), time.Duration(c.StatusInterval), c.BGPListenPort, c.Logger, defaultShutdownGrace, defaultStatusInterval)
	}
	if p.MaxPerPeer != defaultMaxPrefixes || p.AllowLong || len(p.Allowed) != 1 || p.Allowed[0] != netip.MustParsePrefix("192.0.2.0/24") {
		t.Errorf("policy %+v; want the default cap %d, no long prefixes, 192.0.2.0/24 allowed", p, defaultMaxPrefixes)
	}
	if fi, err := os.Stat(c.StateDir); err != nil || !fi.IsDir() {
		t.Errorf("stateDir %q not created: %v", c.StateDir, err)
	}

	// Explicit values are kept; a negative grace means none.
	c = validConfig(t)
	c.ShutdownGrace = Duration(-time.Second)
	c.StatusInterval = Duration(time.Second)
	c.BGPListenPort = 179
	c.Origination = Origination{AllowedPrefixes: []string{"192.0.2.0/24", "2001:db8::/32"}, AllowLongPrefixes: true, MaxPrefixesPerPeer: 20000}
	p, err = c.Validate()
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.ShutdownGrace != 0 || c.StatusInterval != Duration(time.Second) || c.BGPListenPort != 179 {
		t.Errorf("shutdownGrace %v, statusInterval %v, bgpListenPort %d; want 0, 1s, 179",
			time.Duration(c.ShutdownGrace), time.Duration(c.StatusInterval), c.BGPListenPort)
	}
	if p.MaxPerPeer != 20000 || !p.AllowLong || len(p.Allowed) != 2 {
		t.Errorf("policy %+v; want cap 20000, long prefixes allowed, two allowed prefixes", p)
	}
}

// TestControllerList: the agent takes several replicas, as a
// comma-separated controller, a controllers list, or both.
func TestControllerList(t *testing.T) {
	for _, tt := range []struct {
		controller  string
		controllers []string
		want        string
	}{
		{controller: "10.0.0.1:7400", want: "10.0.0.1:7400"},
		{controller: "10.0.0.1:7400, ctl.example:7400", want: "10.0.0.1:7400 ctl.example:7400"},
		{controllers: []string{"10.0.0.1:7400", "unix:/run/anyctl.sock"}, want: "10.0.0.1:7400 unix:/run/anyctl.sock"},
		{controller: "10.0.0.1:7400", controllers: []string{"10.0.0.2:7400"}, want: "10.0.0.1:7400 10.0.0.2:7400"},
		{want: ""},
	} {
		c := validConfig(t)
		c.Controller, c.Controllers = tt.controller, tt.controllers
		if _, err := c.Validate(); err != nil {
			t.Fatalf("controller %q, controllers %q: %v", tt.controller, tt.controllers, err)
		}
		if got := strings.Join(c.controllers, " "); got != tt.want {
			t.Errorf("controller %q, controllers %q: replicas %q; want %q", tt.controller, tt.controllers, got, tt.want)
		}
	}
}

func TestLoadConfigFile(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    func(Config) bool
		wantErr string
	}{
		{
			name: "every field",
			yaml: `
pop: tokyo
controller: 10.0.0.1:7400
stateDir: /var/lib/anyctl/agent
metricsListen: 127.0.0.1:7402
origination:
  allowedPrefixes: [192.0.2.0/24, "2001:db8::/32"]
  allowLongPrefixes: true
  maxPrefixesPerPeer: 500
secrets: {upstream-a: s3cret}
shutdownGrace: 10s
bgpListenPort: 179
statusInterval: 2s
`,
			want: func(c Config) bool {
				return c.Pop == "tokyo" && c.Controller == "10.0.0.1:7400" && c.StateDir == "/var/lib/anyctl/agent" &&
					c.MetricsListen == "127.0.0.1:7402" && len(c.Origination.AllowedPrefixes) == 2 &&
					c.Origination.AllowLongPrefixes && c.Origination.MaxPrefixesPerPeer == 500 &&
					c.Secrets["upstream-a"] == "s3cret" && c.ShutdownGrace == Duration(10*time.Second) &&
					c.BGPListenPort == 179 && c.StatusInterval == Duration(2*time.Second)
			},
		},
		{
			name:    "unknown top-level field",
			yaml:    "pop: tokyo\nstateDirectory: /tmp\n",
			wantErr: `unknown field "stateDirectory"`,
		},
		{
			name:    "unknown nested field",
			yaml:    "pop: tokyo\norigination:\n  allowedPrefix: [192.0.2.0/24]\n",
			wantErr: `unknown field "allowedPrefix"`,
		},
		{
			name:    "duration without unit",
			yaml:    "pop: tokyo\nshutdownGrace: 5\n",
			wantErr: `want a duration such as "5s", got "5"`,
		},
		{
			name:    "duration in words",
			yaml:    "pop: tokyo\nstatusInterval: five seconds\n",
			wantErr: `want a duration such as "5s", got "five seconds"`,
		},
		{
			name:    "not YAML",
			yaml:    "pop: [tokyo\n",
			wantErr: "agent config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfigFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("LoadConfigFile error %v; want one naming %q and containing %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfigFile: %v", err)
			}
			if !tt.want(c) {
				t.Errorf("LoadConfigFile read %+v", c)
			}
		})
	}
}

func TestLoadConfigFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	if _, err := LoadConfigFile(path); err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadConfigFile(missing) error %v; want a not-exist error naming %q", err, path)
	}
}

func TestDurationRoundTrip(t *testing.T) {
	d := Duration(1500 * time.Millisecond)
	b, err := d.MarshalJSON()
	if err != nil || string(b) != `"1.5s"` {
		t.Fatalf("MarshalJSON = %s, %v; want \"1.5s\"", b, err)
	}
	var back Duration
	if err := back.UnmarshalJSON(b); err != nil || back != d {
		t.Errorf("UnmarshalJSON(%s) = %v, %v; want %v", b, time.Duration(back), err, time.Duration(d))
	}
}

// TestDeployExampleConfig loads the example shipped in deploy/agent and
// validates it, with the state dir moved somewhere the test may create.
func TestDeployExampleConfig(t *testing.T) {
	path := filepath.Join("..", "deploy", "agent", "agent.yaml")
	c, err := LoadConfigFile(path)
	if err != nil {
		t.Fatalf("LoadConfigFile(%q): %v", path, err)
	}
	if c.StateDir != "/var/lib/anyctl/agent" {
		t.Errorf("example stateDir %q; want /var/lib/anyctl/agent, the unit's StateDirectory", c.StateDir)
	}
	c.StateDir = t.TempDir()
	p, err := c.Validate()
	if err != nil {
		t.Fatalf("example %q does not validate: %v", path, err)
	}
	if c.Pop == "" || c.Controller == "" || len(p.Allowed) == 0 || len(c.Secrets) == 0 {
		t.Errorf("example %q should show pop, controller, allowed prefixes and secrets; read %+v", path, c)
	}
}
