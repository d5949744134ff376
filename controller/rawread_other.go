//go:build !linux

package controller

import "net"

// rawReader is Linux-only: elsewhere a connection reads as net.Conn does.
type rawReader struct{ net.Conn }

func newRawReader(net.Conn) *rawReader { return nil }
