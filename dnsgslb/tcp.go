package dnsgslb

import (
	"net"
	"net/netip"
	"sync"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// tcpServer serves DNS over TCP with github.com/miekg/dns, answering from
// the same index as UDP.
func (s *Server) tcpServer(ln net.Listener) *dns.Server {
	// Connections share one metrics shard: its counters are atomic.
	sh := s.metrics.newShard()
	pool := sync.Pool{New: func() any { return &tcpResponder{r: s.newResponder(sh), buf: make([]byte, 0, dns.MaxMsgSize)} }}
	return &dns.Server{
		Listener: ln,
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			tr := pool.Get().(*tcpResponder)
			defer pool.Put(tr)
			wire.FromMsg(req, &tr.r.q)
			var src netip.Addr
			if a, ok := w.RemoteAddr().(*net.TCPAddr); ok {
				src, tr.r.port = a.AddrPort().Addr().Unmap(), a.AddrPort().Port()
			}
			reply := tr.r.respond(tr.buf[:0], src, true)
			if tr.r.tap != nil {
				tr.tapLog(req, reply, src)
			}
			if reply != nil {
				w.Write(reply)
			}
		}),
	}
}

// tcpResponder is a responder with its reply buffer, and a buffer to pack
// requests into for dnstap.
type tcpResponder struct {
	r    *responder
	buf  []byte
	qbuf []byte
}
