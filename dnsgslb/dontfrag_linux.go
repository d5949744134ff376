package dnsgslb

import "golang.org/x/sys/unix"

// setDontFragment makes a UDP socket send with the Don't Fragment bit set
// and at the interface MTU, ignoring path MTU estimates (RFC 9715 section
// 3.2): a UDP reply carries at most wire.AdvertisedUDPSize bytes of DNS,
// so it is never fragmented, and a forged ICMP "fragmentation needed"
// cannot make it so. With DF set the kernel also skips choosing a unique
// IP ID for every datagram. family is the socket's, AF_INET or AF_INET6
// (which may send to IPv4-mapped addresses through the IPv4 option).
func setDontFragment(fd, family int) error {
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE); err != nil {
			return err
		}
	}
	err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE)
	if family == unix.AF_INET6 {
		return nil // an IPv6-only socket has no IPv4 side
	}
	return err
}
