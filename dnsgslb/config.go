package dnsgslb

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/cookie"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
)

// Location is where a client is placed when nothing else knows.
type Location = geo.Location

// Index is a compiled snapshot; see package index.
type Index = index.Index

// Explanation is the result of Index.Explain.
type Explanation = index.Explanation

// Config configures a Server.
type Config struct {
	// Listen is the UDP and TCP address, "127.0.0.1:0" for any free port.
	Listen string
	// StateDir holds the last snapshot; empty keeps nothing on disk.
	StateDir string
	// GeoIPPath is a MaxMind City or Country database; empty locates every
	// client that is not a PoP at DefaultLocation.
	GeoIPPath string
	// GeoIPReloadInterval is how often the GeoIP file is checked for a
	// change (size or modification time); a change that holds for one
	// interval is reloaded (see Server.ReloadGeoIP). 0 checks never.
	GeoIPReloadInterval time.Duration
	DefaultLocation     Location
	Logger              *slog.Logger
	// UDPWorkers is the number of UDP sockets (SO_REUSEPORT), each with its
	// own reading goroutine; 0 for one per processor the process started
	// with (GOMAXPROCS, which follows the CPU limit of a container).
	UDPWorkers int
	// UDPMode is how UDP workers wait for queries; the zero value is the
	// fastest the platform has.
	UDPMode UDPMode
	// UDPCoalesce is how long a busy blocking UDP worker waits after
	// answering a batch before it reads again, so that the next read takes
	// several datagrams (see coalescer): a worker that used at least 40%
	// of its CPU over the last 2 ms, with datagrams coming fast enough for
	// the wait to gather two, saves 15–30% of its CPU per query (at 60,000
	// to 100,000 queries a second on one core) and adds at most the wait
	// to a query's latency. A lightly loaded worker never waits. 0 is
	// 50µs, a negative value never waits; at most 1ms. The kernel may
	// stretch the wait by the thread's timer slack (50µs by default).
	UDPCoalesce time.Duration
	// DNSSECKeyDir holds the BIND-format key files of the zones to sign
	// (see package dnssec); a zone with keys there is signed, the others
	// are not. Empty signs nothing.
	DNSSECKeyDir string

	// Identity is the server's name, which says which server of an
	// anycast address answered: sent as NSID (RFC 5001) to queries asking
	// for it, and the CHAOS TXT answer to id.server. and hostname.bind.
	// Empty sends and answers neither. At most 128 bytes.
	Identity string
	// VersionBind is the CHAOS TXT answer to version.bind.; empty refuses
	// it. At most 128 bytes.
	VersionBind string
	// Cookies holds the DNS cookie secrets (RFC 7873, server cookies as in
	// RFC 9018): the servers of one anycast address should share them, so
	// that each accepts the others' cookies. Nil uses a random secret of
	// this server's own.
	Cookies *cookie.Jar
	// NoCookies ignores COOKIE options: replies carry no cookie.
	NoCookies bool
	// RRL is response rate limiting on UDP; nil is DefaultRRL(), a
	// ResponsesPerSecond of 0 turns it off.
	RRL *RRLConfig
	// Dnstap logs queries in dnstap; the zero value logs none.
	Dnstap DnstapConfig
	// TCP bounds the TCP connections; the zero value is the defaults.
	TCP TCPConfig
}

// TCPConfig bounds DNS over TCP (RFC 7766 section 10). A zero field is its
// default.
type TCPConfig struct {
	// MaxConnections is the connections served at once, 1024 by default;
	// past it the connection that has waited longest for its next query
	// is closed to make room for a new one.
	MaxConnections int
	// MaxPerClient is the connections of one client (an IPv4 address, an
	// IPv6 /64), 64 by default, so that one host cannot take every slot
	// from the resolvers a truncated UDP answer sends to TCP; -1 sets no
	// limit (a load balancer in front, on one address).
	MaxPerClient int
	// IdleTimeout is how long a connection may wait for its next query
	// (and take to send it, or to read a reply), 10 s by default; it is
	// also the edns-tcp-keepalive timeout offered (RFC 7828).
	IdleTimeout time.Duration
}

// TCP defaults, and the longest idle timeout: edns-tcp-keepalive carries
// it in units of 100 ms in 16 bits.
const (
	defaultTCPConns     = 1024
	defaultTCPPerClient = 64
	defaultTCPIdle      = 10 * time.Second
	maxTCPConnections   = 1 << 20
	maxTCPIdle          = time.Hour
)

// withDefaults checks c, naming the field and value, and fills in the
// defaults.
func (c TCPConfig) withDefaults() (TCPConfig, error) {
	switch {
	case c.MaxConnections < 0 || c.MaxConnections > maxTCPConnections:
		return c, fmt.Errorf("TCP.MaxConnections %d: want 1 to %d (0 for %d)", c.MaxConnections, maxTCPConnections, defaultTCPConns)
	case c.MaxPerClient < -1:
		return c, fmt.Errorf("TCP.MaxPerClient %d: want 1 or more, -1 for no limit (0 for %d)", c.MaxPerClient, defaultTCPPerClient)
	case c.IdleTimeout < 0 || c.IdleTimeout > maxTCPIdle || c.IdleTimeout > 0 && c.IdleTimeout < 100*time.Millisecond:
		return c, fmt.Errorf("TCP.IdleTimeout %v: want 100ms to %v (0 for %v)", c.IdleTimeout, maxTCPIdle, defaultTCPIdle)
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = defaultTCPConns
	}
	if c.MaxPerClient == 0 {
		c.MaxPerClient = defaultTCPPerClient
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = defaultTCPIdle
	}
	return c, nil
}

// UDPMode is how UDP workers wait for queries.
type UDPMode int

const (
	// UDPAuto blocks where the platform can (UDPBlocking), else polls.
	UDPAuto UDPMode = iota
	// UDPBlocking makes each UDP worker own an OS thread and block in
	// recvmmsg through a raw system call, outside the Go scheduler: the
	// least CPU per query at any load, as a C server. A blocked worker keeps
	// its processor, so Run raises GOMAXPROCS to at least the workers plus
	// one: TCP, the controller feed, snapshot builds and the garbage
	// collector always have a processor of their own. Linux on amd64 and
	// arm64 only.
	UDPBlocking
	// UDPNetpoller reads through the Go runtime's netpoller.
	UDPNetpoller
)

// String is the mode's name, as --udp-mode takes it.
func (m UDPMode) String() string {
	switch m {
	case UDPAuto:
		return "auto"
	case UDPBlocking:
		return "blocking"
	case UDPNetpoller:
		return "netpoller"
	}
	return fmt.Sprintf("UDPMode(%d)", int(m))
}

// ParseUDPMode reads a mode name: auto, blocking or netpoller.
func ParseUDPMode(s string) (UDPMode, error) {
	for _, m := range []UDPMode{UDPAuto, UDPBlocking, UDPNetpoller} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("UDP mode %q: want auto, blocking or netpoller", s)
}

// blocking says whether the mode blocks on this platform.
func (m UDPMode) blocking() bool {
	return m == UDPBlocking || (m == UDPAuto && blockingSupported)
}
