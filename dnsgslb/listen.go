package dnsgslb

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// udpSocket is one UDP socket with the loop that serves it.
type udpSocket interface {
	LocalAddr() net.Addr
	// serve answers datagrams until the socket is interrupted.
	serve(s *Server, w *udpWorker, stop *atomic.Bool)
	// interrupt makes serve return soon; Close releases the socket after.
	interrupt()
	Close() error
}

// pollSocket is served through the Go netpoller.
type pollSocket struct{ *net.UDPConn }

func (p pollSocket) serve(s *Server, w *udpWorker, _ *atomic.Bool) { s.serveUDP(p.UDPConn, w) }
func (p pollSocket) interrupt()                                    { p.UDPConn.Close() }

// blockingSocket is served by a worker blocking in recvmmsg.
type blockingSocket struct{ *rawUDP }

func (b blockingSocket) LocalAddr() net.Addr { return b.addr }
func (b blockingSocket) serve(s *Server, w *udpWorker, stop *atomic.Bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer servingThread()() // the short slice goes with the worker
	s.serveUDPBlocking(b.rawUDP, w, stop)
}
func (b blockingSocket) interrupt() { b.rawUDP.interrupt() }

// wildcard says whether a socket is bound to a wildcard address (0.0.0.0
// or ::): its replies must name their source (setPktinfo, usePktinfo),
// or they leave from whichever local address routing prefers, not the one
// the query was sent to, and the client drops them.
func wildcard(a net.Addr) bool {
	ua, ok := a.(*net.UDPAddr)
	return ok && (ua.IP == nil || ua.IP.IsUnspecified())
}

// addrPort is a socket's address and port, the address unmapped and the
// zero Addr for a wildcard address.
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	}
	if ap.Addr().IsUnspecified() {
		return netip.AddrPortFrom(netip.Addr{}, ap.Port())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// reusePort sets SO_REUSEPORT so several UDP sockets share one port, the
// Don't Fragment bit (setDontFragment), and on a wildcard address the
// destination address of each datagram (setPktinfo).
func reusePort(network, address string, c syscall.RawConn) error {
	family := unix.AF_INET6
	if network == "udp4" {
		family = unix.AF_INET
	}
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		if serr != nil {
			serr = fmt.Errorf("SO_REUSEPORT: %w", serr)
			return
		}
		if err := setDontFragment(int(fd), family); err != nil {
			serr = fmt.Errorf("don't fragment: %w", err)
			return
		}
		if host, _, err := net.SplitHostPort(address); err == nil {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				if err := setPktinfo(int(fd), family); err != nil {
					serr = fmt.Errorf("packet info: %w", err)
				}
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

func listenUDP(ctx context.Context, addr string, blocking bool) (udpSocket, error) {
	if blocking {
		r, err := listenRawUDP(addr)
		if err != nil {
			return nil, err
		}
		return blockingSocket{r}, nil
	}
	lc := net.ListenConfig{Control: reusePort}
	c, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen udp %q: %w", addr, err)
	}
	return pollSocket{c.(*net.UDPConn)}, nil
}

// listen opens n UDP sockets and a TCP listener on one port. With port 0
// the first UDP socket picks the port; if TCP cannot have the same port, it
// tries again with a fresh one.
func listen(ctx context.Context, addr string, n int, blocking bool) ([]udpSocket, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	var lastErr error
	for range 8 {
		first, err := listenUDP(ctx, net.JoinHostPort(host, port), blocking)
		if err != nil {
			return nil, nil, err
		}
		socks := []udpSocket{first}
		closeAll := func() {
			for _, c := range socks {
				c.Close()
			}
		}
		bound := net.JoinHostPort(host, strconv.Itoa(first.LocalAddr().(*net.UDPAddr).Port))
		tcp, err := (&net.ListenConfig{}).Listen(ctx, "tcp", bound)
		if err != nil {
			closeAll()
			lastErr = fmt.Errorf("listen tcp %q: %w", bound, err)
			if port != "0" {
				return nil, nil, lastErr
			}
			continue
		}
		for len(socks) < n {
			c, err := listenUDP(ctx, bound, blocking)
			if err != nil {
				closeAll()
				tcp.Close()
				return nil, nil, fmt.Errorf("UDP socket %d of %d: %w", len(socks)+1, n, err)
			}
			socks = append(socks, c)
		}
		return socks, tcp, nil
	}
	return nil, nil, lastErr
}
