package fleettest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy forwards TCP connections to one etcd member. cut partitions the
// path: from then on nothing passes either way and the connections stay
// open, as behind a firewall that drops packets; heal closes the
// connections cut (the client's TLS streams lost bytes) and forwards new
// ones again.
type proxy struct {
	l      net.Listener
	target string

	mu sync.Mutex // guards cut and conns
	// cut is true while the path is partitioned.
	cut   bool
	conns map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		l.Close()
		p.closeAll()
	})
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *proxy) handle(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies src to dst, dropping what it reads while the path is cut.
func (p *proxy) pipe(dst, src net.Conn) {
	defer func() {
		src.Close()
		dst.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			cut := p.cut
			p.mu.Unlock()
			if !cut {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

// setCut partitions (true) or heals (false) the path.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	was := p.cut
	p.cut = cut
	p.mu.Unlock()
	if was && !cut {
		p.closeAll()
	}
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}
