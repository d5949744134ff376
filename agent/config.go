package agent

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/anyctl/anyctl/endpoint"
	"sigs.k8s.io/yaml"
)

// Config is the agent's local configuration: the PoP it runs for, where its
// controller is, and the local origination policy that no controller can
// override.
type Config struct {
	// Pop is the PoP this agent runs for.
	Pop string `json:"pop"`
	// Controller is the controller's gRPC address.
	Controller string `json:"controller"`
	// StateDir holds the last accepted config, for restarts without a
	// controller.
	StateDir string `json:"stateDir"`
	// MetricsListen is the agent's Prometheus listener; empty disables it.
	MetricsListen string `json:"metricsListen,omitempty"`
	// Origination is the local safety policy for announcements.
	Origination Origination `json:"origination"`
	// Secrets maps a peer's passwordRef to its TCP MD5 password.
	Secrets map[string]string `json:"secrets,omitempty"`
	// ShutdownGrace is how long announcements carry GRACEFUL_SHUTDOWN before
	// the sessions close on SIGTERM.
	ShutdownGrace Duration `json:"shutdownGrace,omitempty"`
	// BGPListenPort is the port GoBGP listens on; -1 (default) only dials out.
	BGPListenPort int32 `json:"bgpListenPort,omitempty"`
	// StatusInterval is how often status is reported besides on change.
	StatusInterval Duration `json:"statusInterval,omitempty"`

	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger `json:"-"`
}

// Origination limits what this PoP will ever announce.
type Origination struct {
	// AllowedPrefixes is the address space this PoP may announce; a prefix
	// outside every entry is refused. Required.
	AllowedPrefixes []string `json:"allowedPrefixes"`
	// AllowLongPrefixes permits IPv4 longer than /24 and IPv6 longer than /48.
	AllowLongPrefixes bool `json:"allowLongPrefixes,omitempty"`
	// MaxPrefixesPerPeer caps the announcements sent to each peer; 0 = 1000.
	MaxPrefixesPerPeer int `json:"maxPrefixesPerPeer,omitempty"`
}

// Duration is a time.Duration written as "5s" in the config file.
type Duration time.Duration

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := yaml.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"5s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"5s\", got %q", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%q", time.Duration(d).String())), nil
}

// LoadConfigFile reads a YAML config file strictly: unknown fields are errors.
func LoadConfigFile(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("agent config: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return c, fmt.Errorf("agent config %q: %w", path, err)
	}
	return c, nil
}

// defaults for the agent's config.
const (
	defaultShutdownGrace  = 5 * time.Second
	defaultStatusInterval = 5 * time.Second
	defaultMaxPrefixes    = 1000
)

// Validate checks the config, fills defaults and returns the parsed
// origination policy. Errors name the setting and the value.
func (c *Config) Validate() (*Policy, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Pop == "" {
		return nil, fmt.Errorf("pop: required (--pop or pop: in the config file)")
	}
	if c.StateDir == "" {
		return nil, fmt.Errorf("stateDir: required (--state-dir or stateDir: in the config file)")
	}
	if c.Controller != "" {
		if err := endpoint.Check(c.Controller); err != nil {
			return nil, fmt.Errorf("controller %q: %w", c.Controller, err)
		}
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return nil, fmt.Errorf("metricsListen %q: want host:port", c.MetricsListen)
		}
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = Duration(defaultShutdownGrace)
	}
	if c.ShutdownGrace < 0 {
		c.ShutdownGrace = 0
	}
	if c.StatusInterval <= 0 {
		c.StatusInterval = Duration(defaultStatusInterval)
	}
	if c.BGPListenPort == 0 {
		c.BGPListenPort = -1
	}
	if err := os.MkdirAll(c.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("stateDir %q: %w", c.StateDir, err)
	}
	return c.Origination.policy()
}

func (o Origination) policy() (*Policy, error) {
	if len(o.AllowedPrefixes) == 0 {
		return nil, fmt.Errorf("origination.allowedPrefixes: required: list the address space this PoP may announce")
	}
	p := &Policy{AllowLong: o.AllowLongPrefixes, MaxPerPeer: o.MaxPrefixesPerPeer}
	if p.MaxPerPeer == 0 {
		p.MaxPerPeer = defaultMaxPrefixes
	}
	if p.MaxPerPeer < 0 {
		return nil, fmt.Errorf("origination.maxPrefixesPerPeer %d: must not be negative", o.MaxPrefixesPerPeer)
	}
	for i, s := range o.AllowedPrefixes {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("origination.allowedPrefixes[%d] %q: not a CIDR prefix", i, s)
		}
		if pfx.Masked() != pfx {
			return nil, fmt.Errorf("origination.allowedPrefixes[%d] %q: host bits set; did you mean %q?", i, s, pfx.Masked().String())
		}
		p.Allowed = append(p.Allowed, pfx)
	}
	return p, nil
}
