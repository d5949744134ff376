//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batch is how many datagrams one recvmmsg or sendmmsg moves.
const batch = 32

// maxRequest is the largest request read; longer ones are dropped.
const maxRequest = 4096

// ctlSize holds one IP_PKTINFO or IPV6_PKTINFO control message (32 or 40
// bytes with its header).
const ctlSize = 64

// mmsghdr is struct mmsghdr of 64-bit Linux.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// udpWorker reads, answers and writes datagrams in batches with
// recvmmsg/sendmmsg. Every buffer is allocated once.
type udpWorker struct {
	r     *responder
	rc    syscall.RawConn
	in    [batch][maxRequest]byte
	out   [batch][maxReply]byte
	names [batch]unix.RawSockaddrInet6
	riov  [batch]unix.Iovec
	siov  [batch]unix.Iovec
	rmsgs [batch]mmsghdr
	smsgs [batch]mmsghdr

	// On a socket bound to a wildcard address (pktinfo), each datagram
	// arrives with its destination address (rctl) and each reply leaves
	// from it (sctl). A socket bound to one address sends without a
	// control message. The buffers follow the 8-byte aligned headers.
	rctl    [batch][ctlSize]byte
	sctl    [batch][ctlSize]byte
	pktinfo bool

	// got and errno are set by recv, sent by send; the closures are made
	// once so that the loop does not allocate.
	got, sent, toSend int
	errno             syscall.Errno
	recv, send        func(fd uintptr) bool
}

func (s *Server) newWorker() *udpWorker {
	w := &udpWorker{r: s.newResponder(s.metrics.newShard(), true)}
	for i := range batch {
		w.riov[i].Base = &w.in[i][0]
		w.riov[i].SetLen(maxRequest)
		w.rmsgs[i].hdr.Name = (*byte)(unsafe.Pointer(&w.names[i]))
		w.rmsgs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		w.rmsgs[i].hdr.Iov = &w.riov[i]
		w.rmsgs[i].hdr.Iovlen = 1
		w.siov[i].Base = &w.out[i][0]
		w.smsgs[i].hdr.Iov = &w.siov[i]
		w.smsgs[i].hdr.Iovlen = 1
	}
	w.recv = func(fd uintptr) bool {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&w.rmsgs[0])), batch, unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		w.got, w.errno = int(n), e
		if e != 0 {
			w.got = 0
		}
		return true
	}
	w.send = func(fd uintptr) bool {
		for w.sent < w.toSend {
			n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.smsgs[w.sent])), uintptr(w.toSend-w.sent), unix.MSG_DONTWAIT, 0, 0)
			switch {
			case e == unix.EAGAIN:
				return false // wait for room
			case e == unix.EINTR:
			case e != 0:
				// Skip the datagram that failed (e.g. an unreachable
				// destination) and go on at once: nothing would
				// report the socket writable.
				w.sent++
			default:
				w.sent += int(n)
			}
		}
		return true
	}
	return w
}

// serveUDP runs one worker on one socket until the socket is closed.
func (s *Server) serveUDP(c *net.UDPConn, w *udpWorker) {
	rc, err := c.SyscallConn()
	if err != nil {
		s.log.Error("dns udp socket", "err", err)
		return
	}
	for {
		w.rearm()
		if err := rc.Read(w.recv); err != nil {
			return // closed
		}
		if w.errno != 0 {
			continue
		}
		w.fill()
		if w.toSend == 0 {
			continue
		}
		w.sent = 0
		if err := rc.Write(w.send); err != nil {
			return
		}
	}
}

// usePktinfo makes the worker read each datagram's destination address
// and send the reply from it: for a socket bound to a wildcard address,
// with the options of setPktinfo set.
func (w *udpWorker) usePktinfo() {
	w.pktinfo = true
	for i := range batch {
		w.rmsgs[i].hdr.Control = &w.rctl[i][0]
		w.rmsgs[i].hdr.SetControllen(ctlSize)
	}
}

// rearm readies the headers of the datagrams last received for the next
// receive; the kernel wrote no others.
func (w *udpWorker) rearm() {
	for i := range w.got {
		w.rmsgs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		w.rmsgs[i].hdr.Flags = 0
		if w.pktinfo {
			w.rmsgs[i].hdr.SetControllen(ctlSize)
		}
	}
	w.got = 0
}

// fill answers the w.got datagrams received and sets up w.toSend replies.
func (w *udpWorker) fill() int {
	w.toSend = 0
	w.r.stampBatch()
	defer w.r.endBatch()
	for i := range w.got {
		m := &w.rmsgs[i]
		if m.hdr.Flags&unix.MSG_TRUNC != 0 {
			continue
		}
		src, ok := sockaddrAddr(&w.names[i])
		if !ok {
			continue
		}
		w.r.port = sockaddrPort(&w.names[i])
		ctl := 0
		if w.pktinfo {
			ctl = replyPktinfo(&w.sctl[w.toSend], w.rctl[i][:m.hdr.Controllen])
			if w.r.tap != nil {
				w.r.local = netip.AddrPortFrom(pktinfoAddr(&w.sctl[w.toSend], ctl), w.r.local.Port())
			}
		}
		reply := w.r.handle(w.out[w.toSend][:0], w.in[i][:m.len], src, false)
		if reply == nil {
			continue
		}
		sm := &w.smsgs[w.toSend]
		sm.hdr.Name = m.hdr.Name
		sm.hdr.Namelen = m.hdr.Namelen
		if w.pktinfo {
			if ctl > 0 {
				sm.hdr.Control = &w.sctl[w.toSend][0]
				sm.hdr.SetControllen(ctl)
			} else {
				sm.hdr.Control = nil
				sm.hdr.SetControllen(0)
			}
		}
		w.siov[w.toSend].SetLen(len(reply))
		w.toSend++
	}
	return w.toSend
}

// sockaddrPort reads the source port of a datagram; it is at the same
// place, in network byte order, in both families' socket addresses.
func sockaddrPort(sa *unix.RawSockaddrInet6) uint16 {
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	return uint16(p[0])<<8 | uint16(p[1])
}

// sockaddrAddr reads the source address of a datagram.
func sockaddrAddr(sa *unix.RawSockaddrInet6) (netip.Addr, bool) {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrFrom4(sa4.Addr), true
	case unix.AF_INET6:
		return netip.AddrFrom16(sa.Addr).Unmap(), true
	}
	return netip.Addr{}, false
}

// pktinfoAddr reads the source address from a control message of n bytes
// that replyPktinfo wrote; the zero Addr when n is 0.
func pktinfoAddr(ctl *[ctlSize]byte, n int) netip.Addr {
	if n == 0 {
		return netip.Addr{}
	}
	if (*unix.Cmsghdr)(unsafe.Pointer(&ctl[0])).Level == unix.IPPROTO_IP {
		return netip.AddrFrom4((*unix.Inet4Pktinfo)(unsafe.Pointer(&ctl[unix.SizeofCmsghdr])).Spec_dst)
	}
	return netip.AddrFrom16((*unix.Inet6Pktinfo)(unsafe.Pointer(&ctl[unix.SizeofCmsghdr])).Addr).Unmap()
}

// setPktinfo asks for each datagram's destination address on a socket
// bound to a wildcard address: IP_PKTINFO on an IPv4 socket; on an IPv6
// one IPV6_PKTINFO, which carries IPv4-mapped addresses for IPv4.
func setPktinfo(fd, family int) error {
	if family == unix.AF_INET6 {
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
}

// replyPktinfo writes to out the control message that sends a reply from
// the address its query was sent to, read from the query's control
// messages rcv, and returns its length, or 0 without one. The reply keeps
// no interface but for an IPv6 link-local address: routing chooses the
// way out as for any other datagram, only the source is fixed.
func replyPktinfo(out *[ctlSize]byte, rcv []byte) int {
	for len(rcv) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&rcv[0]))
		if h.Len < unix.SizeofCmsghdr || int(h.Len) > len(rcv) {
			return 0
		}
		data := rcv[unix.SizeofCmsghdr:h.Len]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			in := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			clear(out[:])
			oh := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
			oh.Level, oh.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
			oh.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
			o := (*unix.Inet4Pktinfo)(unsafe.Pointer(&out[unix.SizeofCmsghdr]))
			o.Spec_dst = in.Addr
			return unix.CmsgSpace(unix.SizeofInet4Pktinfo)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			in := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			clear(out[:])
			oh := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
			oh.Level, oh.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
			oh.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
			o := (*unix.Inet6Pktinfo)(unsafe.Pointer(&out[unix.SizeofCmsghdr]))
			o.Addr = in.Addr
			if in.Addr[0] == 0xfe && in.Addr[1]&0xc0 == 0x80 {
				o.Ifindex = in.Ifindex
			}
			return unix.CmsgSpace(unix.SizeofInet6Pktinfo)
		}
		rcv = rcv[min(unix.CmsgSpace(int(h.Len)-unix.SizeofCmsghdr), len(rcv)):]
	}
	return 0
}
