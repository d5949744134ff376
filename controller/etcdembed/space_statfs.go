//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package etcdembed

import "syscall"

// freeSpace is the room left, in bytes, for an unprivileged writer on the
// file system holding dir; a variable so that tests can pretend it is
// small.
var freeSpace = func(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
