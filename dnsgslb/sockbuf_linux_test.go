package dnsgslb_test

import (
	"net"
	"syscall"
)

// forceReadBuffer gives c a receive buffer of n bytes, above the system's
// limit (net.core.rmem_max) when the process may (CAP_NET_ADMIN).
func forceReadBuffer(c *net.UDPConn, n int) {
	c.SetReadBuffer(n)
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n) })
	}
}
