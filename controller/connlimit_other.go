//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package controller

// defaultMaxConnections is a fixed limit where RLIMIT_NOFILE is not known.
func defaultMaxConnections() int { return fallbackMaxConnections }
