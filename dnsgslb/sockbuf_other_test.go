//go:build !linux

package dnsgslb_test

import "net"

// forceReadBuffer gives c a receive buffer of up to n bytes: only Linux
// can go above the system's limit.
func forceReadBuffer(c *net.UDPConn, n int) { c.SetReadBuffer(n) }
