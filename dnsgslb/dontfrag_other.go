//go:build !linux

package dnsgslb

// setDontFragment leaves the socket as it is outside Linux.
func setDontFragment(fd, family int) error { return nil }
