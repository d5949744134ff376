//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// blockingTimeoutMicros is how long a blocking worker waits in recvmmsg,
// keeping its processor, before it counts the socket as idle and waits
// for the next datagram where the runtime can take the processor back.
const blockingTimeoutMicros = 5000

// blockingSupported says whether Config.UDPBlocking works on this platform.
const blockingSupported = true

// rawUDP is a UDP socket made outside the Go netpoller, in blocking mode
// with a receive timeout.
type rawUDP struct {
	fd   int
	addr *net.UDPAddr
}

// listenRawUDP binds a blocking SO_REUSEPORT UDP socket to addr.
func listenRawUDP(addr string) (*rawUDP, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen udp %q: %w", addr, err)
	}
	ip, _ := netip.AddrFromSlice(ua.IP)
	ip = ip.Unmap()
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified()
	}
	family := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: ua.Port, Addr: ip.As16()}
	if ip.Is4() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: ua.Port, Addr: ip.As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("listen udp %q: socket: %w", addr, err)
	}
	fail := func(what string, err error) (*rawUDP, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("listen udp %q: %s: %w", addr, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fail("SO_REUSEPORT", err)
	}
	tv := unix.Timeval{Usec: blockingTimeoutMicros}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("SO_RCVTIMEO", err)
	}
	if err := setDontFragment(fd, family); err != nil {
		return fail("don't fragment", err)
	}
	if family == unix.AF_INET6 && ip.IsUnspecified() {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
			return fail("IPV6_V6ONLY", err)
		}
	}
	if ip.IsUnspecified() {
		if err := setPktinfo(fd, family); err != nil {
			return fail("packet info", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	r := &rawUDP{fd: fd, addr: &net.UDPAddr{IP: ua.IP, Port: ua.Port}}
	switch g := got.(type) {
	case *unix.SockaddrInet4:
		r.addr = &net.UDPAddr{IP: net.IP(g.Addr[:]), Port: g.Port}
	case *unix.SockaddrInet6:
		r.addr = &net.UDPAddr{IP: net.IP(g.Addr[:]), Port: g.Port}
	}
	return r, nil
}

func (r *rawUDP) Close() error { return unix.Close(r.fd) }

// interrupt wakes a worker blocked on the socket: after shutdown, a
// receive or a poll returns at once, and so does a send waiting for room
// in the send buffer (EPIPE). An unconnected socket reports ENOTCONN but
// is shut down all the same.
func (r *rawUDP) interrupt() { unix.Shutdown(r.fd, unix.SHUT_RDWR) }

// waitIdle blocks until the idle socket has a datagram, is shut down, or a
// signal arrives, as an ordinary system call: the runtime may hand the
// worker's processor to other goroutines meanwhile and does not preempt
// it, so an idle server costs nothing.
func (r *rawUDP) waitIdle() {
	fds := [1]unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
	unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, 0, 0, 0, 0)
}

// serveUDPBlocking runs one worker on its own OS thread, blocking in
// recvmmsg through a raw system call: the Go scheduler, the netpoller and
// the monitor thread stay out of the wake-up path, as in a C server. While
// blocked the worker keeps its processor; after a receive timeout it waits
// for the next datagram through the runtime (waitIdle), as gdnsd moves
// from recvmmsg to ppoll when idle. A busy worker sleeps
// Config.UDPCoalesce after answering a batch (coalescer), keeping its
// processor too: the sleep is shorter than a receive's timeout.
func (s *Server) serveUDPBlocking(r *rawUDP, w *udpWorker, stop *atomic.Bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fd := uintptr(r.fd)
	co := newCoalescer(s.cfg.UDPCoalesce, batch)
	co.busy = s.coalesceBusy
	wait := unix.NsecToTimespec(int64(s.cfg.UDPCoalesce))
	sh := w.r.shard
	defer sh.coalescing.Store(false)
	for !stop.Load() {
		was := co.on
		if co.after(w.got, monotonic(), threadCPU) {
			unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&wait)), 0, 0)
			sh.coalesced.Add(1)
		}
		if co.on != was {
			sh.coalescing.Store(co.on)
		}
		w.rearm()
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&w.rmsgs[0])), batch, unix.MSG_WAITFORONE, 0, 0)
		if e != 0 {
			if errors.Is(e, unix.EBADF) {
				return
			}
			if e == unix.EAGAIN {
				if co.on {
					sh.coalescing.Store(false)
				}
				co.idle()
				r.waitIdle()
			}
			continue
		}
		w.got = int(n)
		if w.fill() == 0 {
			continue
		}
		w.sendReplies(fd)
	}
}

// sendReplies sends the batch's replies. The send cannot block in the raw
// system call, where the runtime would count the worker as running and a
// garbage collection's stop-the-world would wait for it: it does not wait
// (MSG_DONTWAIT). When the send buffer is full (replies queued behind a
// slow link, a flood) the rest is sent by an ordinary system call, which
// waits for room while the runtime goes on without the worker.
func (w *udpWorker) sendReplies(fd uintptr) {
	for sent := 0; sent < w.toSend; {
		msgs := uintptr(unsafe.Pointer(&w.smsgs[sent]))
		k, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, msgs, uintptr(w.toSend-sent), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
		if e == unix.EAGAIN {
			k, _, e = unix.Syscall6(unix.SYS_SENDMMSG, fd, msgs, uintptr(w.toSend-sent), unix.MSG_NOSIGNAL, 0, 0)
		}
		switch {
		case e == unix.EINTR || e == unix.EAGAIN:
		case e != 0:
			sent++ // drop the datagram that failed
		default:
			sent += int(k)
		}
	}
}
