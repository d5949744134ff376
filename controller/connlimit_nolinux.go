//go:build !linux

package controller

import (
	"net"
	"time"
)

// setUserTimeout is Linux-only, as in gRPC.
func setUserTimeout(net.Conn, time.Duration) {}
