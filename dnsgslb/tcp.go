package dnsgslb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Connections are bounded by Config.TCP (see TCPConfig): how many at
// once, how many from one client, and how long one may idle.

// tcpClient is the key a connection counts against: its IPv4 address,
// or the /64 of its IPv6 address.
func tcpClient(a net.Addr) netip.Prefix {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}
	}
	ip := ta.AddrPort().Addr().Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// tcpServer serves DNS over TCP (RFC 7766) from the same responder code as
// UDP. Each connection is read by a goroutine of its own, which answers
// pipelined queries in order, as many as the client sends, until the
// client closes, sends a message shorter than a DNS header, stays idle
// for TCPConfig.IdleTimeout, has waited longest when a new connection
// finds the server full, or the server stops.
type tcpServer struct {
	s    *Server
	ln   net.Listener
	sh   *shard // shared by every connection: its counters are atomic
	msgs sync.Pool
	done chan struct{}

	mu      sync.Mutex // guards conns, clients, closing and closed, and wg's additions
	conns   map[net.Conn]*tcpConn
	clients map[netip.Prefix]int // connections open by client (tcpClient)
	closing int                  // connections in conns closed to make room
	closed  bool
	wg      sync.WaitGroup // the connections' goroutines
}

// tcpConn is what the server tracks of one connection.
type tcpConn struct {
	// waiting is when the connection began waiting for its current
	// query (Unix nanoseconds), kept by its goroutine.
	waiting atomic.Int64
	// closing says the connection was closed to make room; guarded by
	// tcpServer.mu.
	closing bool
}

// tcpMessage is what answering one query takes: the responder and its
// reply buffer, shared between connections through a pool. A connection
// takes one only once a whole query is read and gives it back before it
// writes, so that a client that sends slowly or reads slowly holds only
// its own bytes.
type tcpMessage struct {
	r   *responder
	out [dns.MaxMsgSize]byte
}

// tcpFlush is how many bytes of replies to pipelined queries wait in a
// connection before they are written; keptReplies is the largest buffer of
// written replies a connection keeps for the next ones.
const (
	tcpFlush    = 4096
	keptReplies = 16 << 10
)

// tcpDrainTime and tcpDrainBytes bound how long, and how much of the
// client's input, a connection closed after a message shorter than a
// header reads once its replies are written (see drain), so that a
// client that goes on sending holds its connection a second at most, and
// less if it sends fast.
var tcpDrainTime = time.Second

const tcpDrainBytes = 64 << 10

// dnsHeaderLen is the length of a DNS message header (RFC 1035 section
// 4.1.1).
const dnsHeaderLen = 12

func (s *Server) newTCPServer(ln net.Listener) *tcpServer {
	t := &tcpServer{s: s, ln: ln, sh: s.metrics.newShard(), done: make(chan struct{}), conns: map[net.Conn]*tcpConn{}, clients: map[netip.Prefix]int{}}
	t.msgs.New = func() any { return &tcpMessage{r: s.newResponder(t.sh, false)} }
	return t
}

// serve accepts connections until close.
func (t *tcpServer) serve() {
	pause := 5 * time.Millisecond
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: wait, then try again.
			t.s.log.Warn("dns tcp accept", "err", err, "retry_in", pause)
			select {
			case <-t.done:
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Second)
			continue
		}
		pause = 5 * time.Millisecond
		tc := t.track(c)
		if tc == nil {
			c.Close()
			continue
		}
		go func() {
			defer t.wg.Done()
			defer t.untrack(c)
			t.conn(c, tc)
		}()
	}
}

// track adds a connection and counts its goroutine in wg, under the lock
// so that close never waits while one is being added, closing the idlest
// connection when the server is full; nil when the server is closed, the
// client has its share open, or every connection is closing (counted).
func (t *tcpServer) track(c net.Conn) *tcpConn {
	client := tcpClient(c.RemoteAddr())
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return nil
	case t.s.cfg.TCP.MaxPerClient > 0 && t.clients[client] >= t.s.cfg.TCP.MaxPerClient:
		t.s.metrics.tcpRefused[tcpClientFull].Add(1)
		return nil
	case len(t.conns)-t.closing >= t.s.cfg.TCP.MaxConnections && !t.closeIdlestLocked():
		t.s.metrics.tcpRefused[tcpFull].Add(1)
		return nil
	}
	tc := &tcpConn{}
	tc.waiting.Store(time.Now().UnixNano())
	t.conns[c] = tc
	t.clients[client]++
	t.s.metrics.tcpOpen.Add(1)
	t.wg.Add(1)
	return tc
}

// closeIdlestLocked closes the connection that has waited longest for its
// next query, to make room for a new one; false when every connection is
// closing already.
func (t *tcpServer) closeIdlestLocked() bool {
	var idlest net.Conn
	var since int64
	for c, tc := range t.conns {
		if w := tc.waiting.Load(); !tc.closing && (idlest == nil || w < since) {
			idlest, since = c, w
		}
	}
	if idlest == nil {
		return false
	}
	t.conns[idlest].closing = true
	t.closing++
	t.s.metrics.tcpClosedIdle.Add(1)
	idlest.Close()
	return true
}

func (t *tcpServer) untrack(c net.Conn) {
	client := tcpClient(c.RemoteAddr())
	t.mu.Lock()
	if t.conns[c].closing {
		t.closing--
	}
	delete(t.conns, c)
	if t.clients[client]--; t.clients[client] <= 0 {
		delete(t.clients, client)
	}
	t.s.metrics.tcpOpen.Add(-1)
	t.mu.Unlock()
	c.Close()
}

// close stops accepting, closes every connection and waits for their
// goroutines.
func (t *tcpServer) close() {
	t.mu.Lock()
	t.closed = true
	close(t.done)
	t.ln.Close()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// conn answers the queries of one connection. Replies to pipelined queries
// are written together once no further query is buffered.
func (t *tcpServer) conn(c net.Conn, tc *tcpConn) {
	var src netip.Addr
	var port uint16
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		src, port = a.AddrPort().Addr().Unmap(), a.AddrPort().Port()
	}
	local := addrPort(c.LocalAddr())
	br := bufio.NewReaderSize(c, 4096)
	var replies []byte // length-prefixed, not yet written
	wrote := false     // some replies were written
	flush := func() bool {
		c.SetWriteDeadline(time.Now().Add(t.s.cfg.TCP.IdleTimeout))
		if _, err := c.Write(replies); err != nil {
			return false
		}
		wrote = true
		replies = replies[:0]
		if cap(replies) > keptReplies {
			replies = nil
		}
		return true
	}
	var prefix [2]byte
	for {
		now := time.Now()
		tc.waiting.Store(now.UnixNano())
		c.SetReadDeadline(now.Add(t.s.cfg.TCP.IdleTimeout))
		if _, err := io.ReadFull(br, prefix[:]); err != nil {
			return // closed, idle or reset
		}
		n := int(binary.BigEndian.Uint16(prefix[:]))
		if n < dnsHeaderLen {
			// Nothing shorter than a header can be answered, not
			// even with its ID: the client is not speaking DNS, or
			// has lost its place in the stream. Close at once, as
			// NSD and Knot DNS do, once the queries before it are
			// answered, and so that those replies reach the client.
			if len(replies) > 0 && !flush() {
				return
			}
			if wrote {
				t.drain(c, tc)
			}
			return
		}
		pkt, err := br.Peek(n)
		if errors.Is(err, bufio.ErrBufferFull) {
			// Longer than br holds: a buffer that grows as the
			// bytes arrive.
			var large bytes.Buffer
			_, err = io.CopyN(&large, br, int64(n))
			pkt = large.Bytes()
		} else if err == nil {
			br.Discard(n) // pkt stays valid until br is read again
		}
		if err != nil {
			return
		}
		m := t.msgs.Get().(*tcpMessage)
		m.r.port, m.r.local = port, local
		if reply := m.r.handle(m.out[:0], pkt, src, true); reply != nil {
			replies = binary.BigEndian.AppendUint16(replies, uint16(len(reply)))
			replies = append(replies, reply...)
		}
		t.msgs.Put(m)
		if len(replies) > 0 && (len(replies) >= tcpFlush || !nextBuffered(br)) && !flush() {
			return
		}
	}
}

// drain shuts the write side of a connection the server is about to close
// while the client may still be sending, after replies were written. A
// socket closed with input unread, or sent input once closed, is reset
// (on Linux) rather than closed: replies not yet sent are dropped, and
// the client may lose those it has received but not read (SO_LINGER
// changes neither). Shut for writing, the connection ends its replies
// with a FIN, so the client reads them and then EOF; what it goes on
// sending is read and discarded until it closes as well, or for
// tcpDrainTime (the idle timeout, if shorter) and tcpDrainBytes at most,
// after which the connection is closed regardless. Meanwhile it is the
// first closed to make room (its wait the longest), and the server's
// close ends it at once.
func (t *tcpServer) drain(c net.Conn, tc *tcpConn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	tc.waiting.Store(0)
	c.SetReadDeadline(time.Now().Add(min(tcpDrainTime, t.s.cfg.TCP.IdleTimeout)))
	io.CopyN(io.Discard, c, tcpDrainBytes)
}

// nextBuffered says whether the next query, length prefix and message, is
// already in br: only then may the replies wait in the writer, since
// reading it will not block.
func nextBuffered(br *bufio.Reader) bool {
	if br.Buffered() < 2 {
		return false
	}
	p, _ := br.Peek(2)
	return br.Buffered() >= 2+int(binary.BigEndian.Uint16(p))
}
