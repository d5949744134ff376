package controller

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/controller/console"
	"github.com/anyctl/anyctl/controller/store"
	"github.com/anyctl/anyctl/endpoint"
)

// The history's default retention: records beyond either are pruned.
const (
	DefaultHistoryMaxEntries = 10000
	DefaultHistoryMaxAge     = 90 * 24 * time.Hour
)

// Config is everything a controller needs to run.
type Config struct {
	// Listen is the gRPC address for the Admin, Agent and GSLB feed APIs.
	Listen string
	// MetricsListen is the Prometheus /metrics address; empty disables it.
	MetricsListen string
	// ConsoleListen is the web console's address; empty disables it. Plain
	// HTTP on loopback only; with TLS configured it requires client
	// certificates from TLSClientCA.
	ConsoleListen string
	// DataDir holds the embedded etcd's data. Unused with EtcdEndpoints.
	DataDir string
	// EtcdEndpoints selects an external etcd cluster instead of the embedded one.
	EtcdEndpoints []string
	// EtcdCA, EtcdCert and EtcdKey are PEM files for TLS to an external etcd.
	EtcdCA, EtcdCert, EtcdKey string
	// EtcdUsername and EtcdPasswordFile authenticate to an external etcd
	// with auth enabled (etcd's user/password auth); the file holds the
	// password, a trailing newline ignored.
	EtcdUsername, EtcdPasswordFile string
	// TLSCert, TLSKey and TLSClientCA turn on mutual TLS: the controller's
	// certificate and key, and the CA that signs every client's certificate.
	// All three or none; with none the APIs are unauthenticated plain text.
	TLSCert, TLSKey, TLSClientCA string
	// AllowedPrefixes is the operator's address space: anycast prefixes must
	// fall inside it.
	AllowedPrefixes []netip.Prefix
	// OriginDownQuorum is the share of reporting PoPs that must see an
	// origin down for the fleet to call it down (more than this share).
	OriginDownQuorum float64
	// DrainPeriod is how long a drained PoP's announcements carry
	// GRACEFUL_SHUTDOWN before they are withdrawn, unless a drain says.
	DrainPeriod time.Duration
	// StatusTTL is how long a PoP's status outlives its agent's last report.
	StatusTTL time.Duration
	// HistoryMaxEntries and HistoryMaxAge are the history's retention:
	// the leader deletes the oldest records beyond either. 0 means
	// DefaultHistoryMaxEntries, DefaultHistoryMaxAge.
	HistoryMaxEntries int
	HistoryMaxAge     time.Duration
	// MaxConnections caps the API's TCP connections from non-loopback
	// addresses; 0 means RLIMIT_NOFILE's soft limit less a reserve.
	MaxConnections int
	// MaxConnectionsPerIP caps those of one remote address; 0 means
	// DefaultMaxConnectionsPerIP.
	MaxConnectionsPerIP int
	// LocalConnections is the separate pool of loopback and Unix socket
	// connections, so an operator on the host always gets in; 0 means
	// DefaultLocalConnections.
	LocalConnections int
	// HandshakeTimeout is how long a new connection has to finish its
	// handshake; 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// LocalAddrs are the remote addresses that draw on the local pool;
	// empty means loopback.
	LocalAddrs []netip.Prefix
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// EtcdLossGrace is how long the replica may go without an answer from
	// a majority of etcd (a read, or its lease's keepalive) before its
	// status says it is degraded; its agent and DNS streams end (so that
	// they move to a replica that reaches etcd) after the longer of this
	// and the replica lease's TTL (StatusTTL) without one, not while etcd
	// is merely slow. 0 means DefaultEtcdLossGrace.
	EtcdLossGrace time.Duration
	// FeedConfirmEvery is how often the replica confirms to its DNS
	// servers that their snapshot is current (FeedFreshness), after
	// checking its view against etcd. 0 means DefaultFeedConfirmEvery.
	FeedConfirmEvery time.Duration
	// EtcdUnsafeNoFsync skips fsync in the embedded etcd; for tests only.
	EtcdUnsafeNoFsync bool
	// OneProcAtRest runs the process on one processor while the
	// controller is at rest, and on the runtime's default while it works
	// (governProcs). GOMAXPROCS is the whole process's: set it only where
	// the controller has the process to itself, as `anyctl controller`
	// does. GOMAXPROCS in the environment turns it off.
	OneProcAtRest bool
}

// Validate checks the config and fills defaults. Errors name the flag.
func (c *Config) Validate() error {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.OriginDownQuorum == 0 {
		c.OriginDownQuorum = DefaultOriginDownQuorum
	}
	if math.IsNaN(c.OriginDownQuorum) || c.OriginDownQuorum < 0 || c.OriginDownQuorum >= 1 {
		return fmt.Errorf("--origin-down-quorum %v: want a share in (0, 1): an origin is down when more than this share of reporting PoPs see it down", c.OriginDownQuorum)
	}
	if c.DrainPeriod == 0 {
		c.DrainPeriod = DefaultDrainPeriod
	}
	if err := CheckDrainPeriod(c.DrainPeriod); err != nil {
		return fmt.Errorf("--drain-period %q: %w", c.DrainPeriod, err)
	}
	if c.EtcdLossGrace == 0 {
		c.EtcdLossGrace = DefaultEtcdLossGrace
	}
	if c.EtcdLossGrace < 0 {
		return fmt.Errorf("EtcdLossGrace %s: must not be negative", c.EtcdLossGrace)
	}
	if c.FeedConfirmEvery == 0 {
		c.FeedConfirmEvery = DefaultFeedConfirmEvery
	}
	if c.FeedConfirmEvery < 100*time.Millisecond || c.FeedConfirmEvery > time.Minute {
		return fmt.Errorf("--feed-confirm-every %q: want between 100ms and 1m: DNS servers move to another replica after a few intervals without a confirmation", c.FeedConfirmEvery)
	}
	if c.StatusTTL == 0 {
		c.StatusTTL = 15 * time.Second
	}
	if c.StatusTTL < 2*time.Second {
		return fmt.Errorf("--status-ttl %q: must be at least 2s", c.StatusTTL)
	}
	if c.HistoryMaxEntries == 0 {
		c.HistoryMaxEntries = DefaultHistoryMaxEntries
	}
	if c.HistoryMaxEntries < 0 {
		return fmt.Errorf("--history-max-entries %d: want a positive number of records to keep", c.HistoryMaxEntries)
	}
	if c.HistoryMaxAge == 0 {
		c.HistoryMaxAge = DefaultHistoryMaxAge
	}
	if c.HistoryMaxAge < time.Minute {
		return fmt.Errorf("--history-max-age %q: want at least 1m", c.HistoryMaxAge)
	}
	if err := c.checkConnLimits(); err != nil {
		return err
	}
	if err := endpoint.Check(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: %w", c.Listen, err)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("--metrics-listen %q: want host:port: %w", c.MetricsListen, err)
		}
	}
	if err := c.apiTLSFiles().Check(); err != nil {
		return err
	}
	if c.ConsoleListen != "" {
		if err := console.CheckListen(c.ConsoleListen, c.apiTLSFiles().Enabled()); err != nil {
			return fmt.Errorf("--console-listen %q: %w", c.ConsoleListen, err)
		}
	}
	if len(c.EtcdEndpoints) == 0 && c.DataDir == "" {
		return fmt.Errorf("--data-dir is required with the embedded etcd (or give --etcd-endpoints)")
	}
	if (c.EtcdCert == "") != (c.EtcdKey == "") {
		return fmt.Errorf("--etcd-cert %q and --etcd-key %q: give both or neither", c.EtcdCert, c.EtcdKey)
	}
	if len(c.EtcdEndpoints) == 0 && (c.EtcdCA != "" || c.EtcdCert != "") {
		return fmt.Errorf("--etcd-ca/--etcd-cert apply only with --etcd-endpoints")
	}
	if err := c.checkEtcdTransport(); err != nil {
		return err
	}
	if (c.EtcdUsername == "") != (c.EtcdPasswordFile == "") {
		return fmt.Errorf("--etcd-username %q and --etcd-password-file %q: give both or neither", c.EtcdUsername, c.EtcdPasswordFile)
	}
	if len(c.EtcdEndpoints) == 0 && c.EtcdUsername != "" {
		return fmt.Errorf("--etcd-username applies only with --etcd-endpoints: the embedded etcd has no users")
	}
	return nil
}

// checkEtcdTransport refuses external etcd endpoints that mix plain text
// and TLS: the etcd client dials every endpoint with the credentials of
// the first, so the others would fail their handshakes, unseen until the
// first is down. It also refuses TLS files that no endpoint would use.
func (c *Config) checkEtcdTransport() error {
	if len(c.EtcdEndpoints) == 0 {
		return nil
	}
	files := c.EtcdCA != "" || c.EtcdCert != ""
	first, firstTLS := c.EtcdEndpoints[0], store.EndpointTLS(c.EtcdEndpoints[0], files)
	for _, ep := range c.EtcdEndpoints[1:] {
		if store.EndpointTLS(ep, files) != firstTLS {
			return fmt.Errorf("--etcd-endpoints %q: %q is %s and %q %s: the etcd client dials every endpoint as it dials the first; give them one scheme",
				c.EtcdEndpoints, first, etcdTransport(first, firstTLS, files), ep, etcdTransport(ep, !firstTLS, files))
		}
	}
	if files && !firstTLS {
		return fmt.Errorf("--etcd-ca/--etcd-cert given, but every endpoint in --etcd-endpoints %q is plain text: use https:// endpoints, or drop the TLS files", c.EtcdEndpoints)
	}
	return nil
}

// etcdTransport names how the client speaks to ep, for errors.
func etcdTransport(ep string, tls, files bool) string {
	switch {
	case !tls:
		return "plain text"
	case files && !store.EndpointTLS(ep, false):
		return "TLS (--etcd-ca or --etcd-cert given)"
	}
	return "TLS"
}

// apiTLSFiles are the files of the APIs' mutual TLS.
func (c *Config) apiTLSFiles() authn.Files {
	return authn.Files{CA: c.TLSClientCA, Cert: c.TLSCert, Key: c.TLSKey, Names: authn.ServerFlags}
}

// apiTLS reads the APIs' server TLS files, nil for plain text; they are
// read again when they change.
func (c *Config) apiTLS(log *slog.Logger) (*authn.Reloader, error) {
	f := c.apiTLSFiles()
	if !f.Enabled() {
		return nil, nil
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	return authn.NewReloader(f, log)
}

// etcdTLSNames name the external etcd's TLS files in errors.
var etcdTLSNames = authn.Names{CA: "--etcd-ca", Cert: "--etcd-cert", Key: "--etcd-key"}

// etcdTLS reads the client TLS files for an external etcd, nil for none;
// they are read again when they change.
func (c *Config) etcdTLS(log *slog.Logger) (*authn.Reloader, error) {
	if c.EtcdCA == "" && c.EtcdCert == "" {
		return nil, nil
	}
	return authn.NewReloader(authn.Files{CA: c.EtcdCA, Cert: c.EtcdCert, Key: c.EtcdKey, Names: etcdTLSNames}, log)
}

// checkConnLimits fills the connection limits' defaults and refuses
// negative ones.
func (c *Config) checkConnLimits() error {
	for _, l := range []struct {
		flag string
		v    *int
		def  int
	}{
		{"--max-connections", &c.MaxConnections, defaultMaxConnections()},
		{"--max-connections-per-ip", &c.MaxConnectionsPerIP, DefaultMaxConnectionsPerIP},
		{"--local-connections", &c.LocalConnections, DefaultLocalConnections},
	} {
		if *l.v < 0 {
			return fmt.Errorf("%s %d: must be positive, or 0 for the default (%d)", l.flag, *l.v, l.def)
		}
		if *l.v == 0 {
			*l.v = l.def
		}
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.HandshakeTimeout < 100*time.Millisecond {
		return fmt.Errorf("--handshake-timeout %q: must be at least 100ms", c.HandshakeTimeout)
	}
	return nil
}

// etcdPassword reads the password of EtcdUsername from EtcdPasswordFile;
// "" without a username.
func (c *Config) etcdPassword() (string, error) {
	if c.EtcdUsername == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.EtcdPasswordFile)
	if err != nil {
		return "", fmt.Errorf("--etcd-password-file %q: %w", c.EtcdPasswordFile, err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("--etcd-password-file %q: the file is empty; it must hold the password of etcd user %q", c.EtcdPasswordFile, c.EtcdUsername)
	}
	return pw, nil
}
