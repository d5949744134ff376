//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUDPSocketsDontFragment checks that every UDP socket the server
// listens on, in both UDP modes and both families, sends with DF set and
// ignores path MTU estimates.
func TestUDPSocketsDontFragment(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::]:0"} {
		for _, blocking := range []bool{false, true} {
			udp, tcp, err := listen(context.Background(), addr, 2, blocking)
			if err != nil {
				t.Fatalf("listen %s blocking=%v: %v", addr, blocking, err)
			}
			tcp.Close()
			for i, c := range udp {
				fd := socketFD(t, c)
				got, err := unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
				if err != nil || got != unix.IP_PMTUDISC_PROBE {
					t.Errorf("%s blocking=%v socket %d: IP_MTU_DISCOVER %d (%v), want IP_PMTUDISC_PROBE (%d)", addr, blocking, i, got, err, unix.IP_PMTUDISC_PROBE)
				}
				if addr[0] == '[' {
					got, err := unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER)
					if err != nil || got != unix.IPV6_PMTUDISC_PROBE {
						t.Errorf("%s blocking=%v socket %d: IPV6_MTU_DISCOVER %d (%v), want IPV6_PMTUDISC_PROBE (%d)", addr, blocking, i, got, err, unix.IPV6_PMTUDISC_PROBE)
					}
				}
				c.Close()
			}
		}
	}
}

// socketFD returns the descriptor of a UDP socket; it stays valid until
// the socket is closed.
func socketFD(t *testing.T, c udpSocket) int {
	t.Helper()
	switch s := c.(type) {
	case blockingSocket:
		return s.fd
	case pollSocket:
		rc, err := s.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var fd int
		if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
			t.Fatal(err)
		}
		return fd
	}
	t.Fatalf("socket %T", c)
	return -1
}
