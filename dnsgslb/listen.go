package dnsgslb

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort sets SO_REUSEPORT so several UDP sockets share one port.
func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// listen opens n UDP sockets and a TCP listener on one port. With port 0
// the first UDP socket picks the port; if TCP cannot have the same port, it
// tries again with a fresh one.
func listen(ctx context.Context, addr string, n int) ([]*net.UDPConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	lc := net.ListenConfig{Control: reusePort}
	var lastErr error
	for range 8 {
		first, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %q: %w", addr, err)
		}
		conns := []*net.UDPConn{first.(*net.UDPConn)}
		bound := strconv.Itoa(first.LocalAddr().(*net.UDPAddr).Port)
		closeAll := func() {
			for _, c := range conns {
				c.Close()
			}
		}
		tcp, err := (&net.ListenConfig{}).Listen(ctx, "tcp", net.JoinHostPort(host, bound))
		if err != nil {
			closeAll()
			lastErr = fmt.Errorf("listen tcp %q: %w", net.JoinHostPort(host, bound), err)
			if port != "0" {
				return nil, nil, lastErr
			}
			continue
		}
		for len(conns) < n {
			c, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, bound))
			if err != nil {
				closeAll()
				tcp.Close()
				return nil, nil, fmt.Errorf("listen udp %q (socket %d of %d): %w", net.JoinHostPort(host, bound), len(conns)+1, n, err)
			}
			conns = append(conns, c.(*net.UDPConn))
		}
		return conns, tcp, nil
	}
	return nil, nil, lastErr
}
