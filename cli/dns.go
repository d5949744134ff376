package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/cookie"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	"github.com/anyctl/anyctl/endpoint"
)

func init() { register(newDNSCommand) }

// DefaultDNSMetricsListen is the DNS server's default Prometheus listener.
const DefaultDNSMetricsListen = "127.0.0.1:7403"

func newDNSCommand(g *globals) *cobra.Command {
	var f dnsFlags
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Run an authoritative GeoDNS server answering from the controller's GSLB snapshots",
		Long: `Run an authoritative GeoDNS server for every GslbZone. It subscribes to a
controller's GSLB feed, answers over UDP and TCP from the newest snapshot, and
persists it in --state-dir: with no controller reachable, even across a
restart, it keeps answering from the last snapshot it had.

Clients are located by their EDNS Client Subnet, else their resolver's
address: first the PoPs' cache networks, then the --geoip database (MaxMind
City or Country, mmdb), else --default-location. Without --geoip every
client outside a PoP cache network is placed at the default location.

Each server says which it is to queries that ask: NSID (dig +nsid) and CHAOS
TXT id.server. (dig CH TXT id.server), with --identity. It answers DNS
cookies (dig +cookie); give every server of an anycast address the same
--cookie-secret-file so that each accepts the cookies the others made. To
roll the secret over, first put the new secret on the second line of every
server's file and restart them, then swap the lines and restart again.

A new GeoIP file is read without a restart: checked every
--geoip-reload-interval, and at once on SIGHUP; a file that cannot be used
keeps the database served.`,
		Example: `  anyctl dns --controller 10.0.0.1:7400 --listen [::]:53 \
      --geoip /var/lib/GeoIP/GeoLite2-City.mmdb --state-dir /var/lib/anyctl/dns \
      --default-location 39.04,-77.49,US,NA \
      --tls-ca /etc/anyctl/ca.pem --tls-cert /etc/anyctl/ns1.pem --tls-key /etc/anyctl/ns1-key.pem`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// SIGHUP is caught from the start: loading a large persisted
			// snapshot takes seconds, and the signal's default ends the
			// process. One sent meanwhile reloads once the server is made.
			hup := hangups()
			defer signal.Stop(hup)
			cfg, err := f.options(g.stderr)
			if err != nil {
				return err
			}
			d, err := newDNS(cmd.Context(), cfg)
			if ctx := cmd.Context(); err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil // stopped while it started
			}
			if err != nil {
				return err
			}
			defer reloadOnHangup(cmd.Context(), hup, d.Server(), cfg.Server.GeoIPPath != "", cfg.Server.Logger)()
			return d.Run(cmd.Context())
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// dnsFlags are the flags of `anyctl dns`.
type dnsFlags struct {
	controller      string
	listen          string
	geoip           string
	geoipReload     time.Duration
	feedStaleAfter  time.Duration
	stateDir        string
	metricsListen   string
	defaultLocation string
	udpWorkers      int
	udpMode         string
	udpCoalesce     time.Duration
	tcpConns        int
	tcpPerClient    int
	tcpIdle         time.Duration
	name            string
	dnssecKeys      string
	identity        string
	versionBind     string
	cookieSecret    string
	cookies         bool
	rrl             rrlFlags
	dnstap          dnstapFlags
	tls             tlsFlags
	logs            logFlags
}

func (f *dnsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.controller, "controller", DefaultServer, "controller gRPC address (host:port or unix:PATH); several replicas separated by commas, or a DNS name with several addresses")
	fs.DurationVar(&f.feedStaleAfter, "feed-stale-after", feed.DefaultStaleAfter, "how long the controller replica streamed from may go without confirming its state current (it does every --feed-confirm-every, 5s by default) before the server moves to another replica, answering from its last snapshot meanwhile; at least 1s, and never less than three of the replica's intervals; once no replica has confirmed through a round of them, it waits twice as long on each next one, up to 16 times. Controllers from before confirmations are not held to it")
	fs.StringVar(&f.listen, "listen", ":53", "UDP and TCP address to answer on")
	fs.StringVar(&f.geoip, "geoip", "", "MaxMind City or Country database (mmdb); without it, clients outside PoP cache networks are placed at --default-location")
	fs.DurationVar(&f.geoipReload, "geoip-reload-interval", DefaultGeoIPReloadInterval, "how often to check the --geoip file for a new database (at least 1s; 0: only on SIGHUP)")
	fs.StringVar(&f.stateDir, "state-dir", "/var/lib/anyctl/dns", "directory for the persisted snapshot (empty: keep nothing on disk)")
	fs.StringVar(&f.metricsListen, "metrics-listen", DefaultDNSMetricsListen, "Prometheus metrics listen address (empty: off)")
	fs.StringVar(&f.defaultLocation, "default-location", "", "LAT,LON[,COUNTRY[,CONTINENT]] where clients nothing else locates are placed (default 0,0 with no country)")
	fs.IntVar(&f.udpWorkers, "udp-workers", 0, "UDP sockets sharing the port (SO_REUSEPORT), each with its own reader; 0: one per processor (GOMAXPROCS)")
	fs.StringVar(&f.udpMode, "udp-mode", "auto", "how UDP workers wait: blocking (in recvmmsg on their own OS threads; GOMAXPROCS is raised to workers+1), netpoller, or auto (blocking on Linux amd64/arm64)")
	fs.DurationVar(&f.udpCoalesce, "udp-coalesce", dnsgslb.DefaultUDPCoalesce, "how long a busy blocking UDP worker (over 40% of a CPU) waits after answering a batch, so that its next read takes several datagrams: 15–30% less CPU per query at high rates, at most this much (plus the timer slack, 50µs) more latency; a lightly loaded worker never waits (0: never; at most 1ms)")
	fs.IntVar(&f.tcpConns, "tcp-max-connections", 1024, "TCP connections served at once; past it the one waiting longest for its next query is closed to make room")
	fs.IntVar(&f.tcpPerClient, "tcp-max-per-client", 64, "TCP connections from one client (an IPv4 address, an IPv6 /64); 0: no limit (a load balancer in front)")
	fs.DurationVar(&f.tcpIdle, "tcp-idle-timeout", 10*time.Second, "how long a TCP connection may wait for its next query; also the edns-tcp-keepalive timeout offered")
	fs.StringVar(&f.dnssecKeys, "dnssec-keys", "", "directory of BIND-format DNSSEC key files (anyctl dnssec keygen): zones with keys there are signed; every server of a zone needs the same files")
	fs.StringVar(&f.name, "name", "", "this server's name in the controller's logs (default: the --tls-cert CommonName, else the host name)")
	host, _ := os.Hostname()
	fs.StringVar(&f.identity, "identity", host, "this server's name in NSID (dig +nsid) and in CHAOS TXT id.server. and hostname.bind. answers, to tell which anycast node answered (empty: send and answer neither)")
	fs.StringVar(&f.versionBind, "version-bind", "", "answer CHAOS TXT version.bind. with this text (empty: refuse it)")
	fs.StringVar(&f.cookieSecret, "cookie-secret-file", "", "DNS cookie secret file: 32 hex digits (openssl rand -hex 16) on the first line, optionally the previous secret, still accepted, on the second; every server of an anycast address should share it (empty: a random secret of this server's own)")
	fs.BoolVar(&f.cookies, "cookies", true, "answer DNS cookies (RFC 7873, server cookies as in RFC 9018); false ignores COOKIE options")
	f.rrl.register(fs)
	f.dnstap.register(fs)
	f.tls.register(fs, "--controller", "the DNS server's certificate (PEM): OrganizationalUnit dns, CommonName the server's name", false)
	f.logs.register(fs)
}

// options checks the flags and turns them into options; every error is a
// usage error naming the flag and its value.
func (f *dnsFlags) options(stderr io.Writer) (daemon.Config, error) {
	log, err := f.logs.logger(stderr)
	if err != nil {
		return daemon.Config{}, err
	}
	if _, err := controlconn.ParseList(f.controller); err != nil {
		return daemon.Config{}, UsageErrorf("--controller %q: %v", f.controller, err)
	}
	if err := feed.CheckStaleAfter(f.feedStaleAfter); err != nil {
		return daemon.Config{}, UsageErrorf("--feed-stale-after %v: %v", f.feedStaleAfter, err)
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return daemon.Config{}, UsageErrorf("--listen %q: want host:port, e.g. \"[::]:53\": %v", f.listen, err)
	}
	if f.metricsListen != "" {
		if err := endpoint.Check(f.metricsListen); err != nil {
			return daemon.Config{}, UsageErrorf("--metrics-listen %q: %v", f.metricsListen, err)
		}
	}
	if f.udpWorkers < 0 {
		return daemon.Config{}, UsageErrorf("--udp-workers %d: want 0 (one per processor) or more", f.udpWorkers)
	}
	tcp := dnsgslb.TCPConfig{MaxConnections: f.tcpConns, MaxPerClient: f.tcpPerClient, IdleTimeout: f.tcpIdle}
	switch {
	case f.tcpConns < 1 || f.tcpConns > 1<<20:
		return daemon.Config{}, UsageErrorf("--tcp-max-connections %d: want 1 to %d", f.tcpConns, 1<<20)
	case f.tcpPerClient < 0:
		return daemon.Config{}, UsageErrorf("--tcp-max-per-client %d: want 1 or more (0: no limit)", f.tcpPerClient)
	case f.tcpIdle < 100*time.Millisecond || f.tcpIdle > time.Hour:
		return daemon.Config{}, UsageErrorf("--tcp-idle-timeout %v: want 100ms to 1h", f.tcpIdle)
	}
	if f.tcpPerClient == 0 {
		tcp.MaxPerClient = -1
	}
	udpMode, err := dnsgslb.ParseUDPMode(f.udpMode)
	if err != nil {
		return daemon.Config{}, UsageErrorf("--udp-mode: %v", err)
	}
	udpCoalesce := f.udpCoalesce
	switch {
	case udpCoalesce < 0 || udpCoalesce > dnsgslb.MaxUDPCoalesce:
		return daemon.Config{}, UsageErrorf("--udp-coalesce %v: want 0 (never) to %v", f.udpCoalesce, dnsgslb.MaxUDPCoalesce)
	case udpCoalesce == 0:
		udpCoalesce = -1 // never
	}
	if f.geoip != "" {
		if _, err := os.Stat(f.geoip); err != nil {
			return daemon.Config{}, UsageErrorf("--geoip %q: %v", f.geoip, err)
		}
	}
	if f.geoipReload < 0 || (f.geoipReload > 0 && f.geoipReload < time.Second) {
		return daemon.Config{}, UsageErrorf("--geoip-reload-interval %v: want 0 (only on SIGHUP) or 1s or more", f.geoipReload)
	}
	if f.dnssecKeys != "" {
		if _, err := dnssec.LoadDir(f.dnssecKeys); err != nil {
			return daemon.Config{}, UsageErrorf("--dnssec-keys %q: %v", f.dnssecKeys, err)
		}
	}
	loc, err := parseLocation("default-location", f.defaultLocation)
	if err != nil {
		return daemon.Config{}, err
	}
	if err := checkIdentity("identity", f.identity); err != nil {
		return daemon.Config{}, err
	}
	if err := checkIdentity("version-bind", f.versionBind); err != nil {
		return daemon.Config{}, err
	}
	var jar *cookie.Jar
	if f.cookieSecret != "" {
		if !f.cookies {
			return daemon.Config{}, UsageErrorf("--cookie-secret-file %q with --cookies=false: drop one", f.cookieSecret)
		}
		if jar, err = cookie.ReadJar(f.cookieSecret); err != nil {
			return daemon.Config{}, UsageErrorf("--cookie-secret-file %q: %v", f.cookieSecret, err)
		}
	}
	rrl, err := f.rrl.options()
	if err != nil {
		return daemon.Config{}, err
	}
	tlsFiles, tlsName, id, err := f.feedTLS(log)
	if err != nil {
		return daemon.Config{}, err
	}
	name := f.name
	if name == "" {
		name = id.Name
	}
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			name = "anyctl-dns"
		}
	}
	tap, err := f.dnstap.options(name)
	if err != nil {
		return daemon.Config{}, err
	}
	return daemon.Config{
		Server: dnsgslb.Config{
			Listen: f.listen, StateDir: f.stateDir, GeoIPPath: f.geoip, GeoIPReloadInterval: f.geoipReload, DefaultLocation: loc,
			Logger: log, UDPWorkers: f.udpWorkers, UDPMode: udpMode, UDPCoalesce: udpCoalesce, TCP: tcp, RRL: rrl, Dnstap: tap,
			Identity: f.identity, VersionBind: f.versionBind, Cookies: jar, NoCookies: !f.cookies,
			DNSSECKeyDir: f.dnssecKeys,
		},
		Feed:          feed.Config{Controller: f.controller, ServerName: name, TLS: tlsFiles, TLSServerName: tlsName, Logger: log, StaleAfter: f.feedStaleAfter},
		MetricsListen: f.metricsListen,
	}, nil
}

// feedTLS reads the GSLB feed's mutual TLS files, nil without the TLS
// flags, and returns the name the controller's certificate is checked
// against and the identity of the certificate, which must carry the dns
// role (a renewed one too).
func (f *dnsFlags) feedTLS(log *slog.Logger) (*authn.Reloader, string, authn.Identity, error) {
	files := f.tls.files()
	if !files.Enabled() {
		return nil, "", authn.Identity{}, nil
	}
	// One controller: its certificate is checked against its host;
	// several: against each replica's own name, unless --tls-server-name.
	serverName := f.tls.serverName
	if list, _ := controlconn.ParseList(f.controller); len(list) == 1 {
		serverName = authn.ServerName(list[0], serverName)
	}
	if err := files.Check(); err != nil {
		return nil, "", authn.Identity{}, UsageErrorf("%w", err)
	}
	r, err := authn.NewReloader(files, log)
	if err != nil {
		return nil, "", authn.Identity{}, UsageErrorf("%w", err)
	}
	var id authn.Identity
	err = r.Require(func(cert *x509.Certificate) error {
		got, err := authn.IdentityOf(cert)
		if err != nil {
			return fmt.Errorf("--tls-cert %q: %w", f.tls.cert, err)
		}
		if got.Role != authn.RoleDNS {
			return fmt.Errorf("--tls-cert %q: the certificate %q has role %s; a DNS server needs OrganizationalUnit dns", f.tls.cert, got.Name, got.Role)
		}
		id = got
		return nil
	})
	if err != nil {
		return nil, "", authn.Identity{}, UsageErrorf("%w", err)
	}
	return r, serverName, id, nil
}

// checkIdentity checks a CHAOS TXT text: one character-string, at most
// 128 bytes.
func checkIdentity(flag, s string) error {
	if len(s) > 128 {
		return UsageErrorf("--%s %q: %d bytes, want at most 128", flag, s, len(s))
	}
	return nil
}

// continents are the two-letter codes GeoIP databases use.
var continents = []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"}

// parseLocation parses LAT,LON[,COUNTRY[,CONTINENT]]; empty is the zero
// location.
func parseLocation(flag, s string) (dnsgslb.Location, error) {
	var loc dnsgslb.Location
	if strings.TrimSpace(s) == "" {
		return loc, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 4 {
		return loc, UsageErrorf("--%s %q: want LAT,LON[,COUNTRY[,CONTINENT]], e.g. \"39.04,-77.49,US,NA\"", flag, s)
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	// Written so that NaN, which ParseFloat takes, fails the range too.
	lat, err := strconv.ParseFloat(parts[0], 64)
	if err != nil || !(lat >= -90 && lat <= 90) {
		return loc, UsageErrorf("--%s %q: latitude %q: want a number from -90 to 90", flag, s, parts[0])
	}
	lon, err := strconv.ParseFloat(parts[1], 64)
	if err != nil || !(lon >= -180 && lon <= 180) {
		return loc, UsageErrorf("--%s %q: longitude %q: want a number from -180 to 180", flag, s, parts[1])
	}
	loc.Latitude, loc.Longitude = lat, lon
	if len(parts) > 2 {
		c := strings.ToUpper(parts[2])
		if len(c) != 2 || strings.IndexFunc(c, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
			return loc, UsageErrorf("--%s %q: country %q: want an ISO 3166-1 alpha-2 code such as \"US\"", flag, s, parts[2])
		}
		loc.Country = c
	}
	if len(parts) > 3 {
		c := strings.ToUpper(parts[3])
		if !slices.Contains(continents, c) {
			return loc, UsageErrorf("--%s %q: continent %q: want one of %s", flag, s, parts[3], strings.Join(continents, " "))
		}
		loc.Continent = c
	}
	return loc, nil
}

// newDNS opens the DNS daemon; an error, say a file that is no GeoIP
// database, is a usage error.
func newDNS(ctx context.Context, cfg daemon.Config) (*daemon.Daemon, error) {
	d, err := daemon.NewContext(ctx, cfg)
	if err != nil {
		return nil, UsageErrorf("%w", err)
	}
	return d, nil
}
