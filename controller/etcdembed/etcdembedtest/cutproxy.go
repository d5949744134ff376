package etcdembedtest

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// CutProxy forwards TCP connections to one address (an etcd's client
// port). Partition cuts the path: from then on nothing passes either way
// and the connections stay open, as behind a firewall that drops
// packets; new connections are accepted and go nowhere. Delay makes the
// path slow instead: every byte arrives late, in order, as over a long
// or congested path to an etcd that still answers. Heal ends a
// partition.
type CutProxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex // guards cut, delay and conns
	cut   bool
	delay time.Duration
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

// Partition cuts the path until Heal.
func (p *CutProxy) Partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
}

// Heal ends a partition: it closes every connection, whose bytes were
// dropped, so that clients dial again, and forwards the new ones.
func (p *CutProxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Delay delays every byte on the path by d in each direction from now
// on (0: none); bytes already on their way keep the delay they had.
func (p *CutProxy) Delay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

func (p *CutProxy) isCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

func (p *CutProxy) currentDelay() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
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

// chunk is what one read took from a connection, and when it is due on
// the other side.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, dropping what it reads while the path is cut
// and holding each read back for the delay, in order.
func (p *CutProxy) pipe(dst, src net.Conn) {
	defer src.Close()
	defer dst.Close()
	chunks := make(chan chunk, 4096)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(chunks)
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.isCut() {
				select {
				case chunks <- chunk{bytes.Clone(buf[:n]), time.Now().Add(p.currentDelay())}:
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d) // the path's latency, not a synchronisation
		}
		if _, err := dst.Write(c.b); err != nil {
			return
		}
	}
}
