package controller

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawReader reads a TCP connection with a bare read(2) on its
// non-blocking socket, waiting for data in the runtime's network poller
// as net.Conn does (syscall.RawConn.Read), but without the runtime's
// bookkeeping for a system call that might block. That bookkeeping wakes
// the runtime's monitor thread from its sleep whenever it is asleep, which
// at rest is at nearly every agent report: a read that cannot block does
// not need it. Deadlines and Close work as for net.Conn's Read.
type rawReader struct {
	conn net.Conn
	rc   syscall.RawConn
	// p, n and errno are read's buffer and result; fn reads into p, made
	// once so that a read allocates nothing.
	p     []byte
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

// newRawReader returns the reader of c, or nil when c is not a TCP
// connection whose socket it can reach.
func newRawReader(c net.Conn) *rawReader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawReader{conn: c, rc: rc}
	r.fn = r.readFD
	return r
}

// readFD reads into r.p; false means nothing to read yet.
func (r *rawReader) readFD(fd uintptr) bool {
	for {
		n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch errno {
		case 0:
			r.n, r.errno = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			r.n, r.errno = 0, errno
			return true
		}
	}
}

// Read is net.Conn's Read.
func (r *rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p = p
	err := r.rc.Read(r.fn)
	r.p = nil
	switch {
	case err != nil:
	case r.errno != 0:
		err = os.NewSyscallError("read", r.errno)
	case r.n == 0:
		return 0, io.EOF
	default:
		return r.n, nil
	}
	return 0, &net.OpError{Op: "read", Net: "tcp", Source: r.conn.LocalAddr(), Addr: r.conn.RemoteAddr(), Err: err}
}
