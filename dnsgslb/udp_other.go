//go:build !(linux && (amd64 || arm64))

package dnsgslb

import (
	"net"
)

// udpWorker reads and answers one datagram at a time where recvmmsg is not
// available.
type udpWorker struct {
	r   *responder
	in  [65535]byte
	out [maxReply]byte
}

// usePktinfo does nothing here: replies leave from the address routing
// chooses.
func (w *udpWorker) usePktinfo() {}

// setPktinfo does nothing here (see usePktinfo).
func setPktinfo(fd, family int) error { return nil }

func (s *Server) newWorker() *udpWorker {
	return &udpWorker{r: s.newResponder(s.metrics.newShard(), true)}
}

// serveUDP runs one worker on one socket until the socket is closed.
func (s *Server) serveUDP(c *net.UDPConn, w *udpWorker) {
	for {
		n, src, err := c.ReadFromUDPAddrPort(w.in[:])
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		w.r.port = src.Port()
		if reply := w.r.handle(w.out[:0], w.in[:n], src.Addr().Unmap(), false); reply != nil {
			c.WriteToUDPAddrPort(reply, src)
		}
	}
}
