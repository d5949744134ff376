//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package controller

import "syscall"

// defaultMaxConnections derives the general limit from the soft
// RLIMIT_NOFILE, keeping descriptorReserve for everything else.
func defaultMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return fallbackMaxConnections
	}
	return max(int(rl.Cur)-descriptorReserve, 64)
}
