package etcdembedtest

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// CutProxy forwards TCP connections to one address (an etcd's client
// port). Partition cuts the path: from then on nothing passes either way
// and the connections stay open, as behind a firewall that drops
// packets; new connections are accepted and go nowhere.
type CutProxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex // guards cut and conns
	cut   bool
	conns []net.Conn
}

// StartCutProxy forwards to target, a URL (http://host:port) or host:port.
func StartCutProxy(t testing.TB, target string) *CutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CutProxy{l: l, target: strings.TrimPrefix(target, "http://")}
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	go p.serve()
	return p
}

// URL is the proxy's address as an etcd endpoint.
func (p *CutProxy) URL() string { return "http://" + p.l.Addr().String() }

// Partition cuts the path for good.
func (p *CutProxy) Partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
}

func (p *CutProxy) isCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

func (p *CutProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *CutProxy) handle(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
	if p.isCut() {
		io.Copy(io.Discard, c)
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies src to dst, dropping what it reads while the path is cut.
func (p *CutProxy) pipe(dst, src net.Conn) {
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isCut() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
