package agent

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/controlconn"
	"sigs.k8s.io/yaml"
)

// Config is the agent's local configuration: the PoP it runs for, where its
// controller is, and the local origination policy that no controller can
// override.
type Config struct {
	// Pop is the PoP this agent runs for.
	Pop string `json:"pop"`
	// Controller is the controller's gRPC address (host:port or
	// unix:PATH); several replicas separated by commas. A DNS name that
	// resolves to several addresses stands for each of them.
	Controller string `json:"controller,omitempty"`
	// Controllers lists further controller replicas, as a YAML list. The
	// agent streams from one replica at a time and moves to the next when
	// its stream breaks.
	Controllers []string `json:"controllers,omitempty"`
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
	// GracefulRestart makes SIGTERM a restart that moves nothing: with it,
	// peers that support RFC 4724 keep the PoP's routes while the agent
	// restarts (see Agent.ExitForRestart).
	GracefulRestart GracefulRestart `json:"gracefulRestart,omitzero"`
	// BGPListenPort is the port GoBGP listens on; -1 (default) only dials out.
	BGPListenPort int32 `json:"bgpListenPort,omitempty"`
	// StatusInterval is how often status is reported besides on change.
	StatusInterval Duration `json:"statusInterval,omitempty"`
	// ControllerStaleAfter is how long the controller replica streamed
	// from may go without confirming that its state is current (it does
	// every --feed-confirm-every) before the agent moves to another
	// replica, announcing from its config meanwhile; at least 1s, and
	// never less than three of the replica's intervals. Controllers from
	// before confirmations are not held to it. Default 20s.
	ControllerStaleAfter Duration `json:"controllerStaleAfter,omitempty"`
	// TLS is the agent's client certificate for a controller that requires
	// mutual TLS; empty speaks plain text.
	TLS TLSFiles `json:"tls,omitzero"`

	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger `json:"-"`

	// clientTLS holds the TLS files, read by Validate and again when they
	// change; nil for plain text.
	clientTLS *authn.Reloader
	// serverName is the name the controller's certificate is checked
	// against; empty for each replica's own.
	serverName string
	// controllers are Controller's and Controllers' addresses, set by
	// Validate.
	controllers []string
	// applying, when set, is called as each config starts to be applied
	// (tests make an apply slow with it).
	applying func(revision int64)
}

// GracefulRestart is the agent's RFC 4724 graceful restart as a
// restarting speaker.
type GracefulRestart struct {
	Enabled bool `json:"enabled,omitempty"`
	// RestartTime is how long peers keep the routes of an agent that
	// exited for a restart; default 120s, at most 4095s.
	RestartTime Duration `json:"restartTime,omitempty"`
}

// TLSFiles are the PEM files of the agent's mutual TLS with the
// controller. The certificate's CommonName must be the PoP and its
// OrganizationalUnit "agent".
type TLSFiles struct {
	// CA signed the controller's certificate.
	CA string `json:"ca,omitempty"`
	// Cert and Key are the agent's certificate and private key.
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	// ServerName is the name the controller's certificate must carry;
	// default the host of controller, localhost for unix:PATH.
	ServerName string `json:"serverName,omitempty"`
}

// tlsNames name the TLS settings in errors, by key and by flag.
var tlsNames = authn.Names{CA: "tls.ca (--tls-ca)", Cert: "tls.cert (--tls-cert)", Key: "tls.key (--tls-key)"}

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
	defaultRestartTime    = 120 * time.Second
	maxRestartTime        = 4095 * time.Second
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
	if err := c.parseControllers(); err != nil {
		return nil, err
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
	if c.ControllerStaleAfter == 0 {
		c.ControllerStaleAfter = Duration(controlconn.DefaultStaleAfter)
	}
	if time.Duration(c.ControllerStaleAfter) < time.Second {
		return nil, fmt.Errorf("controllerStaleAfter %q: want at least 1s: the time a controller replica may go without confirming its state before the agent moves to another one", time.Duration(c.ControllerStaleAfter))
	}
	switch gr := &c.GracefulRestart; {
	case gr.RestartTime == 0:
		gr.RestartTime = Duration(defaultRestartTime)
	case time.Duration(gr.RestartTime) < time.Second || time.Duration(gr.RestartTime) > maxRestartTime || time.Duration(gr.RestartTime)%time.Second != 0:
		return nil, fmt.Errorf("gracefulRestart.restartTime %q: want whole seconds from 1s to 4095s", time.Duration(gr.RestartTime).String())
	}
	if c.BGPListenPort == 0 {
		c.BGPListenPort = -1
	}
	if err := c.buildTLS(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("stateDir %q: %w", c.StateDir, err)
	}
	return c.Origination.policy()
}

// buildTLS loads the TLS files and checks that the certificate is an
// agent's for this PoP, which is all the controller will accept.
func (c *Config) buildTLS() error {
	files := authn.Files{CA: c.TLS.CA, Cert: c.TLS.Cert, Key: c.TLS.Key, Names: tlsNames}
	if !files.Enabled() {
		c.clientTLS = nil
		return nil
	}
	// With one controller address the certificate is checked against its
	// host; with several, against each replica's own (the name a target
	// was resolved from), unless serverName says otherwise.
	serverName := c.TLS.ServerName
	if len(c.controllers) == 1 {
		serverName = authn.ServerName(c.controllers[0], serverName)
	}
	if err := files.Check(); err != nil {
		return err
	}
	r, err := authn.NewReloader(files, c.Logger)
	if err != nil {
		return err
	}
	// A renewed certificate must be this PoP's agent's too.
	if err := r.Require(c.agentCertificate); err != nil {
		return err
	}
	c.clientTLS, c.serverName = r, serverName
	return nil
}

// agentCertificate checks that cert is the agent's of this PoP, which is
// all the controller will accept.
func (c *Config) agentCertificate(cert *x509.Certificate) error {
	id, err := authn.IdentityOf(cert)
	if err != nil {
		return fmt.Errorf("%s %q: %w", tlsNames.Cert, c.TLS.Cert, err)
	}
	if id.Role != authn.RoleAgent || id.Name != c.Pop {
		return fmt.Errorf("%s %q: the certificate is for %q with role %s; the agent of PoP %q needs one for %q with role agent (CommonName %q, OrganizationalUnit \"agent\")",
			tlsNames.Cert, c.TLS.Cert, id.Name, id.Role, c.Pop, c.Pop, c.Pop)
	}
	return nil
}

// tlsConfig gives the TLS config of each connection to the controller,
// from the files in use then; nil for plain text.
func (c *Config) tlsConfig() func() *tls.Config {
	if c.clientTLS == nil {
		return nil
	}
	r, name := c.clientTLS, c.serverName
	return func() *tls.Config { return r.ClientConfig(name) }
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

// parseControllers collects the controller addresses of Controller (a
// comma-separated list) and Controllers.
func (c *Config) parseControllers() error {
	c.controllers = nil
	all := c.Controller
	for _, a := range c.Controllers {
		if strings.Contains(a, ",") {
			return fmt.Errorf("controllers: entry %q: one address per list entry", a)
		}
		all += "," + a
	}
	if strings.TrimSpace(strings.ReplaceAll(all, ",", "")) == "" {
		return nil // no controller: run from the persisted config
	}
	list, err := controlconn.ParseList(all)
	if err != nil {
		if len(c.Controllers) == 0 {
			return fmt.Errorf("controller %q: %w", c.Controller, err)
		}
		return fmt.Errorf("controller %q and controllers %q: %w", c.Controller, c.Controllers, err)
	}
	c.controllers = list
	return nil
}
