//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A ring worker serves its socket through io_uring: one multishot receive
// fills buffers the worker lends the kernel, and each pass of the loop
// is one io_uring_enter that both sends the last pass's replies and waits
// for the next queries. A blocking recvmmsg worker makes two system calls
// a pass (recvmmsg, sendmmsg); on machines where a system call costs a
// microsecond, that second call is a fifth of the CPU per query.
//
// The ring is made with SINGLE_ISSUER and DEFER_TASKRUN: only the worker's
// thread submits, and the kernel receives datagrams into the ring only
// while that thread is in io_uring_enter, so a query costs the worker's
// CPU and nobody else's, as in recvmmsg.

// The io_uring ABI (linux/io_uring.h) as far as the ring worker uses it.
const (
	ringSetupCQSize       = 1 << 3
	ringSetupSubmitAll    = 1 << 7
	ringSetupSingleIssuer = 1 << 12
	ringSetupDeferTaskrun = 1 << 13

	ringFeatSingleMmap = 1 << 0
	ringFeatExtArg     = 1 << 8

	ringOffCQRing = 0x8000000
	ringOffSQEs   = 0x10000000

	ringEnterGetevents     = 1 << 0
	ringEnterExtArg        = 1 << 3
	ringEnterRegisteredRng = 1 << 4

	ringOpPollAdd     = 6
	ringOpSendmsg     = 9
	ringOpRecvmsg     = 10
	ringOpAsyncCancel = 14

	ringSQEFixedFile    = 1 << 0
	ringSQEBufferSelect = 1 << 5
	ringRecvMultishot   = 1 << 1
	ringCancelAny       = 1 << 2

	ringCQEFBuffer      = 1 << 0
	ringCQEFMore        = 1 << 1
	ringCQEBufferShift  = 16
	ringRegisterFiles   = 2
	ringRegisterRingFDs = 20
	ringRegisterPbufRng = 22

	ringRecvmsgOutSize = 16 // struct io_uring_recvmsg_out
)

type ringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  ringSQOffsets
	cqOff                                                                  ringCQOffsets
}

type ringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type ringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type ringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32
	userData    uint64
	bufGroup    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	_           uint64
}

type ringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

type ringBufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	_           uint16
	_           [3]uint64
}

// ringBuf is struct io_uring_buf, one entry of the provided-buffer ring.
type ringBuf struct {
	addr uint64
	len  uint32
	bid  uint16
	_    uint16
}

// ringRsrcUpdate is struct io_uring_rsrc_update.
type ringRsrcUpdate struct {
	offset uint32
	_      uint32
	data   uint64
}

type ringGeteventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	_         uint32
	ts        uint64
}

const (
	// ringRecvBufs is how many receive buffers a worker lends the kernel
	// (a power of two): the datagrams one pass can take.
	ringRecvBufs = 128
	// ringSlots is how many replies can be in flight: one per receive
	// buffer, so a pass never waits for a reply slot.
	ringSlots = ringRecvBufs
	// ringNameLen is the room for the source address in a receive buffer:
	// a sockaddr_in6, rounded up so that the control message after it is
	// aligned.
	ringNameLen = 32
	// ringBufSize is one receive buffer: the kernel's header, the source
	// address, the control message and the datagram.
	ringBufSize = ringRecvmsgOutSize + ringNameLen + ctlSize + maxRequest

	ringSQEntries = 256
	ringCQEntries = 1024
)

// User data of the ring's requests: the kind in the upper half, a reply
// slot in the lower.
const (
	ringTagRecv   = 1 << 32
	ringTagWake   = 2 << 32
	ringTagCancel = 3 << 32
	ringTagSend   = 4 << 32
	ringTagMask   = 0xffffffff << 32
)

// ring is one io_uring instance serving one UDP socket.
type ring struct {
	fd, sock int
	wake     int // an eventfd the socket's interrupt writes
	pktinfo  bool

	// The ring's own descriptor and the socket are registered with the
	// ring where the kernel can: io_uring_enter and each request then
	// skip looking the descriptor up. enterFD, enterFlags, sockFD and
	// sockFlags are what the calls and requests name them by.
	enterFD, enterFlags uintptr
	sockFD              int32
	sockFlags           uint8

	ringMem, sqeMem []byte
	sqTail          *uint32
	sqMask          uint32
	sqArray         []uint32
	sqes            []ringSQE
	sqLocal         uint32 // the tail as written, published by enter
	pending         uint32 // SQEs written since the last enter

	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           []ringCQE

	bufRing, bufMem []byte
	bufs            []ringBuf
	bufTail         uint16

	recvHdr unix.Msghdr
	armed   bool // the multishot receive is in the kernel
	rearms  int  // times the kernel ended the receive and it was rearmed
	sending int  // sends submitted and not completed

	// slots are the replies: each is free, or in flight until its send
	// completes.
	out   [ringSlots][maxReply]byte
	names [ringSlots]unix.RawSockaddrInet6
	iov   [ringSlots]unix.Iovec
	hdrs  [ringSlots]unix.Msghdr
	ctl   [ringSlots][ctlSize]byte
	free  [ringSlots]uint32
	nfree int

	ts  unix.Timespec
	arg ringGeteventsArg
}

// ringSupported says whether this kernel gives a ring worker what it
// needs; nil if it does.
func ringSupported() error {
	u, err := newRing(-1, false, -1)
	if err != nil {
		return err
	}
	u.close(true)
	return nil
}

// newRing makes a ring for the socket sock (-1: only see that one can be
// made), woken by the eventfd wake. Call it on the thread that will serve
// the ring.
func newRing(sock int, pktinfo bool, wake int) (*ring, error) {
	p := ringParams{flags: ringSetupCQSize | ringSetupSubmitAll | ringSetupSingleIssuer | ringSetupDeferTaskrun, cqEntries: ringCQEntries}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, ringSQEntries, uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	u := &ring{fd: int(fd), sock: sock, wake: wake, pktinfo: pktinfo, enterFD: fd, sockFD: int32(sock)}
	fail := func(what string, err error) (*ring, error) {
		u.close(true)
		return nil, fmt.Errorf("io_uring %s: %w", what, err)
	}
	if p.features&ringFeatSingleMmap == 0 || p.features&ringFeatExtArg == 0 {
		return fail("features", errors.New("the kernel lacks single mmap or extended wait arguments"))
	}
	size := max(int(p.sqOff.array)+int(p.sqEntries)*4, int(p.cqOff.cqes)+int(p.cqEntries)*int(unsafe.Sizeof(ringCQE{})))
	var err error
	if u.ringMem, err = unix.Mmap(u.fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail("mmap rings", err)
	}
	if u.sqeMem, err = unix.Mmap(u.fd, ringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(ringSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail("mmap submission entries", err)
	}
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&u.ringMem[off]) }
	u.sqTail = (*uint32)(at(p.sqOff.tail))
	u.sqMask = *(*uint32)(at(p.sqOff.ringMask))
	u.sqArray = unsafe.Slice((*uint32)(at(p.sqOff.array)), p.sqEntries)
	u.sqes = unsafe.Slice((*ringSQE)(unsafe.Pointer(&u.sqeMem[0])), p.sqEntries)
	u.sqLocal = atomic.LoadUint32(u.sqTail)
	u.cqHead = (*uint32)(at(p.cqOff.head))
	u.cqTail = (*uint32)(at(p.cqOff.tail))
	u.cqMask = *(*uint32)(at(p.cqOff.ringMask))
	u.cqes = unsafe.Slice((*ringCQE)(at(p.cqOff.cqes)), p.cqEntries)

	// The buffers the kernel receives into, and the ring that lends them.
	if u.bufRing, err = unix.Mmap(-1, 0, ringRecvBufs*int(unsafe.Sizeof(ringBuf{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		return fail("mmap buffer ring", err)
	}
	if u.bufMem, err = unix.Mmap(-1, 0, ringRecvBufs*ringBufSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return fail("mmap buffers", err)
	}
	u.bufs = unsafe.Slice((*ringBuf)(unsafe.Pointer(&u.bufRing[0])), ringRecvBufs)
	reg := ringBufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&u.bufRing[0]))), ringEntries: ringRecvBufs}
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(u.fd), ringRegisterPbufRng, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); e != 0 {
		return fail("register buffer ring", e)
	}
	for bid := range ringRecvBufs {
		u.lend(uint16(bid))
	}
	u.publishBufs()
	if sock < 0 {
		return u, nil
	}
	u.register()

	u.recvHdr.Namelen = ringNameLen
	if pktinfo {
		u.recvHdr.SetControllen(ctlSize)
	}
	for i := range ringSlots {
		u.iov[i].Base = &u.out[i][0]
		u.hdrs[i].Name = (*byte)(unsafe.Pointer(&u.names[i]))
		u.hdrs[i].Iov = &u.iov[i]
		u.hdrs[i].Iovlen = 1
		u.free[i] = uint32(i)
	}
	u.nfree = ringSlots
	u.ts = unix.Timespec{Nsec: blockingTimeoutMicros * 1000}
	u.arg.ts = uint64(uintptr(unsafe.Pointer(&u.ts)))
	u.armRecv()
	sqe := u.sqe()
	sqe.opcode, sqe.fd, sqe.opFlags, sqe.userData = ringOpPollAdd, int32(u.wake), unix.POLLIN, ringTagWake
	return u, nil
}

// register registers the ring's descriptor and the socket with the ring;
// each that fails (an older kernel) is named by its descriptor instead.
func (u *ring) register() {
	files := [1]int32{int32(u.sock)}
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(u.fd), ringRegisterFiles, uintptr(unsafe.Pointer(&files[0])), 1, 0, 0); e == 0 {
		u.sockFD, u.sockFlags = 0, ringSQEFixedFile
	}
	up := ringRsrcUpdate{offset: ^uint32(0), data: uint64(u.fd)}
	if n, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(u.fd), ringRegisterRingFDs, uintptr(unsafe.Pointer(&up)), 1, 0, 0); e == 0 && n == 1 {
		u.enterFD, u.enterFlags = uintptr(up.offset), ringEnterRegisteredRng
	}
}

// lend gives receive buffer bid back to the kernel; publishBufs makes
// what was lent visible.
func (u *ring) lend(bid uint16) {
	b := &u.bufs[u.bufTail&(ringRecvBufs-1)]
	b.addr = uint64(uintptr(unsafe.Pointer(&u.bufMem[int(bid)*ringBufSize])))
	b.len = ringBufSize
	b.bid = bid
	u.bufTail++
}

// publishBufs stores the buffer ring's tail, which shares a word with the
// first entry's buffer ID (struct io_uring_buf_ring), with one release.
func (u *ring) publishBufs() {
	word := (*uint32)(unsafe.Pointer(&u.bufRing[12]))
	atomic.StoreUint32(word, uint32(u.bufs[0].bid)|uint32(u.bufTail)<<16)
}

// sqe returns the next submission entry, cleared. The ring has room for
// every request a pass makes: replies (ringSlots), the receive, the wake
// poll and the cancel.
func (u *ring) sqe() *ringSQE {
	i := u.sqLocal & u.sqMask
	u.sqArray[i] = i
	e := &u.sqes[i]
	*e = ringSQE{}
	u.sqLocal++
	u.pending++
	return e
}

// armRecv queues the multishot receive.
func (u *ring) armRecv() {
	e := u.sqe()
	e.opcode, e.fd, e.len = ringOpRecvmsg, u.sockFD, 1
	e.addr = uint64(uintptr(unsafe.Pointer(&u.recvHdr)))
	e.ioprio = ringRecvMultishot
	e.flags = ringSQEBufferSelect | u.sockFlags
	e.userData = ringTagRecv
	u.armed = true
}

// enter submits what is queued and, when wait, waits for a completion
// beyond the sends just submitted: through a raw system call for at most
// blockingTimeoutMicros when active, keeping the processor as a blocking
// worker does, or as an ordinary one for as long as it takes when idle.
func (u *ring) enter(wait, idle bool) unix.Errno {
	atomic.StoreUint32(u.sqTail, u.sqLocal)
	n := u.pending
	var e unix.Errno
	switch {
	case !wait:
		_, _, e = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, u.enterFD, uintptr(n), 0, u.enterFlags, 0, 0)
	case idle:
		_, _, e = unix.Syscall6(unix.SYS_IO_URING_ENTER, u.enterFD, uintptr(n), uintptr(u.sending)+1, ringEnterGetevents|u.enterFlags, 0, 0)
	default:
		_, _, e = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, u.enterFD, uintptr(n), uintptr(u.sending)+1, ringEnterGetevents|ringEnterExtArg|u.enterFlags,
			uintptr(unsafe.Pointer(&u.arg)), unsafe.Sizeof(u.arg))
	}
	if e == 0 || e == unix.ETIME || e == unix.EINTR {
		// SUBMIT_ALL: a wait that ended early still submitted all.
		u.pending = 0
	}
	return e
}

// close releases the ring. Without drained (requests may still be in the
// kernel) the buffers are left mapped: the kernel may yet write them.
func (u *ring) close(drained bool) {
	if u.fd >= 0 {
		unix.Close(u.fd)
		u.fd = -1
	}
	for _, m := range [][]byte{u.ringMem, u.sqeMem} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	if drained {
		for _, m := range [][]byte{u.bufRing, u.bufMem} {
			if m != nil {
				unix.Munmap(m)
			}
		}
	}
}

// errRingFailed ends a ring worker whose receive failed; its socket is
// then served by recvmmsg.
var errRingFailed = errors.New("io_uring receive failed")

// serveRing serves w's socket through u until stop is set. It returns
// errRingFailed if the ring cannot go on receiving.
func (s *Server) serveRing(u *ring, w *udpWorker, stop *atomic.Bool) error {
	defer func() { u.close(u.drain()) }()
	idle := false
	for !stop.Load() {
		e := u.enter(true, idle)
		idle = false
		switch e {
		case 0, unix.EINTR:
		case unix.ETIME:
			idle = true
			continue
		default:
			return fmt.Errorf("io_uring_enter: %w", e)
		}
		if err := u.reap(w); err != nil {
			return err
		}
	}
	return nil
}

// reap answers the datagrams received, queueing their replies, takes the
// completed sends back, and rearms the receive if the kernel ended it.
func (u *ring) reap(w *udpWorker) error {
	w.r.stampBatch()
	defer w.r.endBatch()
	head := atomic.LoadUint32(u.cqHead)
	tail := atomic.LoadUint32(u.cqTail)
	lent := false
	var failed int32
	for ; head != tail; head++ {
		c := u.cqes[head&u.cqMask]
		switch c.userData & ringTagMask {
		case ringTagSend:
			u.free[u.nfree] = uint32(c.userData)
			u.nfree++
			u.sending--
		case ringTagRecv:
			if c.flags&ringCQEFMore == 0 {
				u.armed = false
				if c.res < 0 && c.res != -int32(unix.ENOBUFS) {
					failed = c.res
				}
			}
			if c.flags&ringCQEFBuffer != 0 {
				bid := uint16(c.flags >> ringCQEBufferShift)
				if c.res > 0 {
					u.answer(w, bid)
				}
				u.lend(bid)
				lent = true
			}
		case ringTagWake, ringTagCancel:
		}
	}
	atomic.StoreUint32(u.cqHead, head)
	if lent {
		u.publishBufs()
	}
	if failed != 0 {
		return fmt.Errorf("%w: %w", errRingFailed, unix.Errno(-failed))
	}
	if !u.armed {
		u.armRecv()
		u.rearms++
	}
	return nil
}

// answer handles the datagram in receive buffer bid and queues its reply.
func (u *ring) answer(w *udpWorker, bid uint16) {
	buf := u.bufMem[int(bid)*ringBufSize : (int(bid)+1)*ringBufSize]
	out := (*[4]uint32)(unsafe.Pointer(&buf[0])) // namelen, controllen, payloadlen, flags
	if out[3]&unix.MSG_TRUNC != 0 || u.nfree == 0 {
		return
	}
	ctlLen := uint32(u.recvHdr.Controllen)
	payload := buf[ringRecvmsgOutSize+ringNameLen+ctlLen:]
	if int(out[2]) > len(payload) {
		return
	}
	payload = payload[:out[2]]
	name := (*unix.RawSockaddrInet6)(unsafe.Pointer(&buf[ringRecvmsgOutSize]))
	src, ok := sockaddrAddr(name)
	if !ok {
		return
	}
	slot := u.free[u.nfree-1]
	w.r.port = sockaddrPort(name)
	reply := w.r.handle(u.out[slot][:0], payload, src, false)
	if reply == nil {
		return
	}
	u.nfree--
	u.names[slot] = *name
	h := &u.hdrs[slot]
	h.Namelen = min(out[0], unix.SizeofSockaddrInet6)
	h.Control = nil
	h.SetControllen(0)
	if u.pktinfo {
		rcv := buf[ringRecvmsgOutSize+ringNameLen:][:min(out[1], ctlLen)]
		if n := replyPktinfo(&u.ctl[slot], rcv); n > 0 {
			h.Control = &u.ctl[slot][0]
			h.SetControllen(n)
		}
	}
	u.iov[slot].SetLen(len(reply))
	e := u.sqe()
	e.opcode, e.fd, e.len, e.opFlags = ringOpSendmsg, u.sockFD, 1, unix.MSG_NOSIGNAL
	e.flags = u.sockFlags
	e.addr = uint64(uintptr(unsafe.Pointer(h)))
	e.userData = ringTagSend | uint64(slot)
	u.sending++
}

// drain cancels every request in the ring and waits, for a second at
// most, until the kernel is done with them; false if it was not.
func (u *ring) drain() bool {
	e := u.sqe()
	e.opcode, e.fd, e.opFlags, e.userData = ringOpAsyncCancel, -1, ringCancelAny, ringTagCancel
	for range 200 {
		switch u.enter(true, false) {
		case 0, unix.ETIME, unix.EINTR:
		default:
			return false
		}
		head := atomic.LoadUint32(u.cqHead)
		tail := atomic.LoadUint32(u.cqTail)
		for ; head != tail; head++ {
			c := u.cqes[head&u.cqMask]
			switch c.userData & ringTagMask {
			case ringTagSend:
				u.sending--
			case ringTagRecv:
				if c.flags&ringCQEFMore == 0 {
					u.armed = false
				}
			}
		}
		atomic.StoreUint32(u.cqHead, head)
		if !u.armed && u.sending == 0 {
			return true
		}
	}
	return false
}

// serveUDPRing serves r through an io_uring ring on the calling thread,
// which must be locked to its goroutine, until stop is set. It returns an
// error if the ring cannot be made or fails; the caller then serves the
// socket through recvmmsg.
func (s *Server) serveUDPRing(r *rawUDP, w *udpWorker, stop *atomic.Bool) error {
	u, err := newRing(r.fd, w.pktinfo, r.wake)
	if err != nil {
		return err
	}
	return s.serveRing(u, w, stop)
}
