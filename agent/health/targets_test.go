package health

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// tcpTarget is a TCP service on loopback that accepts and holds connections
// like a live process, until Kill closes the listener and every connection
// as the kernel does when the process dies.
type tcpTarget struct {
	ln        net.Listener
	closeEach bool // close each accepted connection at once (an idle timeout of zero)

	mu    sync.Mutex // guards conns and dead
	conns []net.Conn
	dead  bool
	done  chan struct{}
}

func startTCPTarget(t testing.TB, closeEach bool) *tcpTarget {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	tt := &tcpTarget{ln: ln, closeEach: closeEach, done: make(chan struct{})}
	go tt.accept()
	t.Cleanup(tt.Kill)
	return tt
}

func (tt *tcpTarget) Addr() string { return tt.ln.Addr().String() }

// Held counts the connections accepted and still held.
func (tt *tcpTarget) Held() int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return len(tt.conns)
}

func (tt *tcpTarget) accept() {
	defer close(tt.done)
	for {
		c, err := tt.ln.Accept()
		if err != nil {
			return
		}
		if tt.closeEach {
			c.Close()
			continue
		}
		tt.mu.Lock()
		if tt.dead {
			c.Close()
		} else {
			tt.conns = append(tt.conns, c)
		}
		tt.mu.Unlock()
	}
}

// Kill closes the listener, then every accepted connection.
func (tt *tcpTarget) Kill() {
	tt.mu.Lock()
	if tt.dead {
		tt.mu.Unlock()
		return
	}
	tt.dead = true
	tt.ln.Close()
	for _, c := range tt.conns {
		c.Close()
	}
	tt.conns = nil
	tt.mu.Unlock()
	<-tt.done
}

// httpTarget is an HTTP service whose health can be switched.
type httpTarget struct {
	srv     *httptest.Server
	healthy atomic.Bool
}

// startHTTPTarget serves:
//
//	/health   200 "all good" while healthy, else 503
//	/nobody   200 "nothing here"
//	/moved    302 to /health
//	/vhost    200 when the Host header is svc.example, else 404
func startHTTPTarget(t testing.TB, tls bool) *httpTarget {
	t.Helper()
	ht := &httpTarget{}
	ht.healthy.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		if !ht.healthy.Load() {
			http.Error(w, "sick", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("all good"))
	})
	mux.HandleFunc("/nobody", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("nothing here")) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/health", http.StatusFound) })
	mux.HandleFunc("/vhost", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "svc.example" {
			http.NotFound(w, r)
		}
	})
	if tls {
		ht.srv = httptest.NewTLSServer(mux)
	} else {
		ht.srv = httptest.NewServer(mux)
	}
	t.Cleanup(ht.srv.Close)
	return ht
}

func (ht *httpTarget) Addr() string { return ht.srv.Listener.Addr().String() }

// startDNSTarget serves on UDP loopback: ok.test. A answers 192.0.2.1,
// broken.test. is SERVFAIL and every other name NXDOMAIN.
func startDNSTarget(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc("ok.test.", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if r.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR("ok.test. 60 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})
	mux.HandleFunc("broken.test.", func(w dns.ResponseWriter, r *dns.Msg) {
		w.WriteMsg(new(dns.Msg).SetRcode(r, dns.RcodeServerFailure))
	})
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		w.WriteMsg(new(dns.Msg).SetRcode(r, dns.RcodeNameError))
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: mux, NotifyStartedFunc: func() { close(started) }}
	served := make(chan error, 1)
	go func() { served <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-served:
		t.Fatalf("dns server: %v", err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// await polls cond until it holds, failing the test after a generous bound.
func await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
