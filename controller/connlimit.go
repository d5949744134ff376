package controller

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Connection limits: idle connections must not take every descriptor, and
// an operator on the controller's host must always get in.
const (
	// DefaultMaxConnectionsPerIP caps the connections of one remote address.
	DefaultMaxConnectionsPerIP = 256
	// DefaultLocalConnections is the separate pool of loopback and Unix
	// socket connections, which the general limit never takes.
	DefaultLocalConnections = 128
	// DefaultHandshakeTimeout is how long a connection has to finish its
	// TLS handshake and HTTP/2 preface (gRPC's default is 120 s).
	DefaultHandshakeTimeout = 10 * time.Second
	// descriptorReserve is what the default --max-connections leaves of
	// RLIMIT_NOFILE for etcd's files, the local pool and the metrics server.
	descriptorReserve = 1024
	// fallbackMaxConnections is the default where RLIMIT_NOFILE is unknown
	// or unlimited.
	fallbackMaxConnections = 16384
)

// connLimits are the limits a limitListener enforces.
type connLimits struct {
	max, perIP, local int
	// isLocal reports whether a remote address draws on the local pool;
	// nil means loopback addresses.
	isLocal func(netip.Addr) bool
	// userTimeout is the TCP_USER_TIMEOUT of admitted connections (the
	// keepalive timeout), which gRPC sets only on a bare *net.TCPConn.
	userTimeout time.Duration
}

// inPrefixes reports whether an address is in ps; nil for no prefixes.
func inPrefixes(ps []netip.Prefix) func(netip.Addr) bool {
	if len(ps) == 0 {
		return nil
	}
	return func(a netip.Addr) bool {
		for _, p := range ps {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}

// limitListener closes a connection over its limits as soon as it is
// accepted, so it neither queues nor holds a descriptor.
type limitListener struct {
	net.Listener
	lim     connLimits
	log     *slog.Logger
	refused func(reason string)

	mu       sync.Mutex // guards total, local, perIP and lastLog
	total    int
	local    int
	perIP    map[netip.Addr]int
	lastLog  time.Time
	suppress int
}

func newLimitListener(l net.Listener, lim connLimits, log *slog.Logger, refused func(string)) *limitListener {
	if lim.isLocal == nil {
		lim.isLocal = netip.Addr.IsLoopback
	}
	return &limitListener{Listener: l, lim: lim, log: log, refused: refused, perIP: map[netip.Addr]int{}}
}

// Accept returns the next connection within the limits.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip, local := l.classify(c.RemoteAddr())
		if release, reason := l.admit(ip, local); reason != "" {
			c.Close()
			l.refusedConn(c.RemoteAddr(), reason)
		} else {
			setUserTimeout(c, l.lim.userTimeout)
			return &limitedConn{Conn: c, release: release, raw: newRawReader(c)}, nil
		}
	}
}

// classify names a connection's remote address and whether it is local
// (a Unix socket or an address isLocal accepts).
func (l *limitListener) classify(a net.Addr) (netip.Addr, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, true
	}
	ip := ta.AddrPort().Addr().Unmap()
	return ip, l.lim.isLocal(ip)
}

// admit counts a connection in, or names the limit that refuses it.
func (l *limitListener) admit(ip netip.Addr, local bool) (release func(), reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if local {
		if l.local >= l.lim.local {
			return nil, "local_limit"
		}
		l.local++
		return func() { l.mu.Lock(); l.local--; l.mu.Unlock() }, ""
	}
	if l.total >= l.lim.max {
		return nil, "limit"
	}
	if l.perIP[ip] >= l.lim.perIP {
		return nil, "per_ip_limit"
	}
	l.total++
	l.perIP[ip]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.total--
		if l.perIP[ip]--; l.perIP[ip] == 0 {
			delete(l.perIP, ip)
		}
	}, ""
}

// refusedConn counts a refusal and logs at most one line a second.
func (l *limitListener) refusedConn(from net.Addr, reason string) {
	l.refused(reason)
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.lastLog) < time.Second {
		l.suppress++
		l.mu.Unlock()
		return
	}
	n := l.suppress
	l.lastLog, l.suppress = now, 0
	l.mu.Unlock()
	l.log.Warn("connection refused: over the connection limit (--max-connections, --max-connections-per-ip)",
		"from", from.String(), "reason", reason, "refused_since_last_log", n)
}

// limitedConn gives its place back once, on the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
	// raw reads the connection when not nil (rawReader).
	raw *rawReader
}

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.raw != nil {
		return c.raw.Read(p)
	}
	return c.Conn.Read(p)
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
