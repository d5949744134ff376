//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The io_uring interface (include/uapi/linux/io_uring.h) as far as the UDP
// worker uses it.
const (
	ioringSetupCQSize       = 1 << 3
	ioringSetupSubmitAll    = 1 << 7
	ioringSetupCoopTaskrun  = 1 << 8
	ioringSetupSingleIssuer = 1 << 12
	ioringSetupDeferTaskrun = 1 << 13

	ioringFeatSingleMmap = 1 << 0
	ioringFeatNoDrop     = 1 << 1
	ioringFeatExtArg     = 1 << 8

	ioringOffSQRing = 0
	ioringOffCQRing = 0x8000000
	ioringOffSQEs   = 0x10000000

	ioringOpPollAdd = 6
	ioringOpSendmsg = 9
	ioringOpRecvmsg = 10

	iosqeBufferSelect = 1 << 5
	ioringRecvMulti   = 1 << 1

	ioringCQEFBuffer   = 1 << 0
	ioringCQEFMore     = 1 << 1
	ioringCQEBufShift  = 16
	ioringEnterGetEv   = 1 << 0
	ioringEnterExtArg  = 1 << 3
	ioringRegPbufRing  = 22
	ioringRegUnregPbuf = 23
)

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

// uringSQE is struct io_uring_sqe.
type uringSQE struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	opFlags  uint32
	userData uint64
	bufGroup uint16
	_        uint16
	_        uint32
	_        [2]uint64
}

// uringCQE is struct io_uring_cqe.
type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// uringBufReg is struct io_uring_buf_reg.
type uringBufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	_           [3]uint64
}

// uringGeteventsArg is struct io_uring_getevents_arg.
type uringGeteventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

const (
	uringEntries = 512 // submission queue: a reply per receive buffer and more
	uringCQ      = 1024
	uringBufs    = 256 // provided receive buffers, a power of 2
	// uringNameLen is the room for the source address in a receive buffer.
	uringNameLen = unix.SizeofSockaddrInet6
	// uringPayload is where a datagram starts in its receive buffer, after
	// struct io_uring_recvmsg_out and the address.
	uringPayload = 16 + uringNameLen
	uringBufSize = uringPayload + maxRequest

	tagRecv = 1 << 62
	tagStop = 1 << 61
)

// uring is one io_uring with a multishot receive on a UDP socket.
type uring struct {
	fd                   int
	sqMem, cqMem, sqeMem []byte
	sqHead, sqTail       *uint32
	sqMask               uint32
	cqHead, cqTail       *uint32
	cqMask               uint32
	sqes                 []uringSQE
	cqes                 []uringCQE
	sqLocal              uint32 // tail not yet published

	bufRing, bufMem []byte
	bufTail         uint16
	bufBid0         uint16 // the bid last written to entry 0, which shares a word with the tail
}

func mmapRing(fd int, off int64, size int) ([]byte, error) {
	return unix.Mmap(fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
}

// newUring sets up a ring for the calling thread, which alone may submit
// to it.
func newUring() (*uring, error) {
	p := uringParams{cqEntries: uringCQ,
		flags: ioringSetupCQSize | ioringSetupSubmitAll | ioringSetupCoopTaskrun | ioringSetupSingleIssuer | ioringSetupDeferTaskrun}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	u := &uring{fd: int(fd)}
	fail := func(what string, err error) (*uring, error) {
		u.close()
		return nil, fmt.Errorf("io_uring %s: %w", what, err)
	}
	if p.features&ioringFeatSingleMmap == 0 || p.features&ioringFeatExtArg == 0 || p.features&ioringFeatNoDrop == 0 {
		return fail("features", fmt.Errorf("%#x lacks single mmap, ext arg or nodrop", p.features))
	}
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	var err error
	if u.sqMem, err = mmapRing(u.fd, ioringOffSQRing, max(sqSize, cqSize)); err != nil {
		return fail("mmap rings", err)
	}
	u.cqMem = u.sqMem
	if u.sqeMem, err = mmapRing(u.fd, ioringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{}))); err != nil {
		return fail("mmap sqes", err)
	}
	at := func(b []byte, off uint32) unsafe.Pointer { return unsafe.Pointer(&b[off]) }
	u.sqHead = (*uint32)(at(u.sqMem, p.sqOff.head))
	u.sqTail = (*uint32)(at(u.sqMem, p.sqOff.tail))
	u.sqMask = *(*uint32)(at(u.sqMem, p.sqOff.ringMask))
	arr := unsafe.Slice((*uint32)(at(u.sqMem, p.sqOff.array)), p.sqEntries)
	for i := range arr {
		arr[i] = uint32(i)
	}
	u.sqLocal = atomic.LoadUint32(u.sqTail)
	u.cqHead = (*uint32)(at(u.cqMem, p.cqOff.head))
	u.cqTail = (*uint32)(at(u.cqMem, p.cqOff.tail))
	u.cqMask = *(*uint32)(at(u.cqMem, p.cqOff.ringMask))
	u.sqes = unsafe.Slice((*uringSQE)(at(u.sqeMem, 0)), p.sqEntries)
	u.cqes = unsafe.Slice((*uringCQE)(at(u.cqMem, p.cqOff.cqes)), p.cqEntries)

	// The provided buffers: a ring of struct io_uring_buf (16 bytes each)
	// and the buffers, both outside the Go heap.
	if u.bufRing, err = unix.Mmap(-1, 0, uringBufs*16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE|unix.MAP_POPULATE); err != nil {
		return fail("mmap buffer ring", err)
	}
	if u.bufMem, err = unix.Mmap(-1, 0, uringBufs*uringBufSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE); err != nil {
		return fail("mmap buffers", err)
	}
	reg := uringBufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&u.bufRing[0]))), ringEntries: uringBufs}
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(u.fd), ioringRegPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); e != 0 {
		return fail("register buffer ring", e)
	}
	for i := range uringBufs {
		u.putBuf(uint16(i))
	}
	u.publishBufs()
	return u, nil
}

func (u *uring) close() {
	for _, m := range [][]byte{u.sqMem, u.sqeMem, u.bufRing, u.bufMem} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	unix.Close(u.fd)
}

// putBuf hands receive buffer bid back to the kernel (after publishBufs).
func (u *uring) putBuf(bid uint16) {
	i := u.bufTail & (uringBufs - 1)
	e := unsafe.Pointer(&u.bufRing[int(i)*16])
	*(*uint64)(e) = uint64(uintptr(unsafe.Pointer(&u.bufMem[int(bid)*uringBufSize])))
	*(*uint32)(unsafe.Add(e, 8)) = uringBufSize
	if i == 0 {
		u.bufBid0 = bid
	} else {
		*(*uint16)(unsafe.Add(e, 12)) = bid
	}
	u.bufTail++
}

// publishBufs makes the buffers put visible: the ring's tail is the upper
// half of the 32-bit word whose lower half is entry 0's bid.
func (u *uring) publishBufs() {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&u.bufRing[12])), uint32(u.bufBid0)|uint32(u.bufTail)<<16)
}

// buf is receive buffer bid.
func (u *uring) buf(bid uint16) []byte {
	return u.bufMem[int(bid)*uringBufSize : (int(bid)+1)*uringBufSize]
}

// sqe returns the next submission queue entry, zeroed; nil when full.
func (u *uring) sqe() *uringSQE {
	if u.sqLocal-atomic.LoadUint32(u.sqHead) >= uint32(len(u.sqes)) {
		return nil
	}
	e := &u.sqes[u.sqLocal&u.sqMask]
	*e = uringSQE{}
	u.sqLocal++
	return e
}

// toSubmit publishes the entries prepared and says how many there are.
func (u *uring) toSubmit() uint32 {
	n := u.sqLocal - atomic.LoadUint32(u.sqTail)
	atomic.StoreUint32(u.sqTail, u.sqLocal)
	return n
}

// uringSocket is a UDP socket served by a worker on an io_uring.
type uringSocket struct {
	*rawUDP
	wake int // an eventfd: a write stops the worker
}

func (s uringSocket) serve(srv *Server, w *udpWorker, stop *atomic.Bool) {
	srv.serveUDPUring(s, w, stop)
}

func (s uringSocket) interrupt() {
	one := [8]byte{1}
	unix.Write(s.wake, one[:])
}

func (s uringSocket) Close() error {
	unix.Close(s.wake)
	return s.rawUDP.Close()
}

func listenUringUDP(addr string) (udpSocket, error) {
	r, err := listenRawUDP(addr)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("listen udp %q: eventfd: %w", addr, err)
	}
	return uringSocket{rawUDP: r, wake: efd}, nil
}

// uringSend is one reply of a batch.
type uringSend struct {
	hdr  unix.Msghdr
	iov  unix.Iovec
	name unix.RawSockaddrInet6
	out  [maxReply]byte
}

// uringState is what a worker's ring points into; allocated once.
type uringState struct {
	recvHdr unix.Msghdr
	sends   [uringBufs]uringSend
	n       int // replies queued in this batch
	ts      unix.Timespec
	arg     uringGeteventsArg
	files   [1]int32
	ringReg uringRsrcUpdate
}

// uringRsrcUpdate is struct io_uring_rsrc_update.
type uringRsrcUpdate struct {
	offset uint32
	_      uint32
	data   uint64
}

const (
	iosqeFixedFile      = 1 << 0
	iosqeCQESkipSuccess = 1 << 6
	ioringRegFiles      = 2
	ioringRegRingFDs    = 20
	ioringEnterRegRing  = 1 << 4
	tagSend             = 1 << 60
)

// serveUDPUring runs one worker on its own OS thread: a multishot receive
// into provided buffers, and one io_uring_enter per batch that submits the
// batch's replies and waits for the next datagrams.
//
// Replies are sent with MSG_DONTWAIT and post no completion on success:
// a send that cannot go at once fails (the datagram is dropped, as a full
// socket buffer drops it) rather than waiting in the kernel, so every
// reply buffer is free again once io_uring_enter has consumed the batch.
func (s *Server) serveUDPUring(sock uringSocket, w *udpWorker, stop *atomic.Bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u, err := newUring()
	if err != nil {
		s.log.Error("dns udp io_uring", "err", err)
		return
	}
	defer u.close()
	st := &uringState{}
	st.recvHdr.Namelen = uringNameLen
	for i := range st.sends {
		sd := &st.sends[i]
		sd.hdr.Name = (*byte)(unsafe.Pointer(&sd.name))
		sd.hdr.Iov = &sd.iov
		sd.hdr.Iovlen = 1
		sd.iov.Base = &sd.out[0]
	}
	st.ts = unix.Timespec{Nsec: blockingTimeoutMicros * 1000}
	st.arg = uringGeteventsArg{ts: uint64(uintptr(unsafe.Pointer(&st.ts)))}
	st.files[0] = int32(sock.fd)
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(u.fd), ioringRegFiles, uintptr(unsafe.Pointer(&st.files[0])), 1, 0, 0); e != 0 {
		s.log.Error("dns udp io_uring: register socket", "err", e)
		return
	}
	fd, enterFlags := uintptr(u.fd), uintptr(ioringEnterGetEv)
	st.ringReg = uringRsrcUpdate{offset: ^uint32(0), data: uint64(u.fd)}
	if _, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(u.fd), ioringRegRingFDs, uintptr(unsafe.Pointer(&st.ringReg)), 1, 0, 0); e == 0 {
		fd, enterFlags = uintptr(st.ringReg.offset), ioringEnterGetEv|ioringEnterRegRing
	}
	armRecv := func() bool {
		e := u.sqe()
		if e == nil {
			return false
		}
		e.opcode = ioringOpRecvmsg
		e.fd = 0
		e.addr = uint64(uintptr(unsafe.Pointer(&st.recvHdr)))
		e.len = 1
		e.ioprio = ioringRecvMulti
		e.flags = iosqeBufferSelect | iosqeFixedFile
		e.userData = tagRecv
		return true
	}
	e := u.sqe()
	e.opcode = ioringOpPollAdd
	e.fd = int32(sock.wake)
	e.opFlags = unix.POLLIN
	e.userData = tagStop
	armRecv()
	rearm := false
	minWait := uint32(0)
	if v, err := strconv.Atoi(os.Getenv("ANYCTL_URING_MINWAIT")); err == nil {
		minWait = uint32(v)
	}
	minBatch := 32
	if v, err := strconv.Atoi(os.Getenv("ANYCTL_URING_MINBATCH")); err == nil {
		minBatch = v
	}
	last := 0
	for !stop.Load() {
		if rearm && armRecv() {
			rearm = false
		}
		n := u.toSubmit()
		minc := 1
		st.arg.minWait = 0
		if minWait > 0 && last >= 2 {
			minc, st.arg.minWait = minBatch, minWait
		}
		_, _, e := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, fd, uintptr(n), uintptr(minc),
			enterFlags|ioringEnterExtArg, uintptr(unsafe.Pointer(&st.arg)), unsafe.Sizeof(st.arg))
		for atomic.LoadUint32(u.sqHead) != u.sqLocal {
			// The kernel took fewer entries than offered: the reply buffers
			// are reused below only once it has them all.
			unix.RawSyscall6(unix.SYS_IO_URING_ENTER, fd, uintptr(u.sqLocal-atomic.LoadUint32(u.sqHead)), 0, enterFlags&^ioringEnterGetEv, 0, 0)
		}
		if e == unix.ETIME && atomic.LoadUint32(u.cqTail) == atomic.LoadUint32(u.cqHead) {
			// Idle: wait where the runtime can take the processor back.
			unix.Syscall6(unix.SYS_IO_URING_ENTER, fd, 0, 1, enterFlags, 0, 0)
		}
		head, tail := atomic.LoadUint32(u.cqHead), atomic.LoadUint32(u.cqTail)
		st.n = 0
		stamped := false
		for ; head != tail; head++ {
			c := &u.cqes[head&u.cqMask]
			switch c.userData {
			case tagStop:
				atomic.StoreUint32(u.cqHead, head+1)
				return
			case tagRecv:
				if c.flags&ioringCQEFMore == 0 {
					rearm = true
				}
				if c.flags&ioringCQEFBuffer == 0 {
					continue
				}
				bid := uint16(c.flags >> ioringCQEBufShift)
				if c.res > 0 && st.n < len(st.sends) {
					if !stamped {
						w.r.stampBatch()
						stamped = true
					}
					s.uringAnswer(u, st, w, u.buf(bid), int(c.res))
				}
				u.putBuf(bid)
			}
			// A failed send (tagSend) drops its datagram.
		}
		last = int(tail - atomic.LoadUint32(u.cqHead))
		atomic.StoreUint32(u.cqHead, head)
		u.publishBufs()
		if stamped {
			w.r.endBatch()
		}
	}
}

// uringAnswer answers the datagram in receive buffer b (n bytes of it
// written) and queues the reply.
func (s *Server) uringAnswer(u *uring, st *uringState, w *udpWorker, b []byte, n int) {
	if n < uringPayload {
		return
	}
	flags := *(*uint32)(unsafe.Pointer(&b[12]))
	if flags&unix.MSG_TRUNC != 0 {
		return
	}
	plen := int(*(*uint32)(unsafe.Pointer(&b[8])))
	if plen > n-uringPayload {
		return
	}
	name := (*unix.RawSockaddrInet6)(unsafe.Pointer(&b[16]))
	src, ok := sockaddrAddr(name)
	if !ok {
		return
	}
	sd := &st.sends[st.n]
	w.r.port = sockaddrPort(name)
	reply := w.r.handle(sd.out[:0], b[uringPayload:uringPayload+plen], src, false)
	if reply == nil {
		return
	}
	e := u.sqe()
	if e == nil {
		return
	}
	st.n++
	sd.name = *name
	sd.hdr.Namelen = min(*(*uint32)(unsafe.Pointer(&b[0])), uringNameLen)
	sd.iov.SetLen(len(reply))
	e.opcode = ioringOpSendmsg
	e.flags = iosqeFixedFile | iosqeCQESkipSuccess
	e.fd = 0
	e.addr = uint64(uintptr(unsafe.Pointer(&sd.hdr)))
	e.len = 1
	e.opFlags = unix.MSG_DONTWAIT
	e.userData = tagSend
}

func (s uringSocket) LocalAddr() net.Addr { return s.addr }
