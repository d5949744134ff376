package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
)

// cutProxy forwards TCP connections to a backend until cut closes the
// ones it holds, as a broken path would.
type cutProxy struct {
	lis     net.Listener
	backend string
	mu      sync.Mutex // guards conns
	conns   []net.Conn
}

func newCutProxy(t *testing.T, backend string) *cutProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{lis: lis, backend: backend}
	t.Cleanup(func() { lis.Close(); p.cut() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.lis.Addr().String() }

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestTLSAgentReconnectsWithRenewedCertificate runs an agent on a
// certificate that expires seconds after it connects; the files are
// renewed in place, and once the first certificate has expired the path
// to the controller breaks: the agent reconnects with the renewed
// certificate, without a restart, and its metrics show the renewed one.
func TestTLSAgentReconnectsWithRenewedCertificate(t *testing.T) {
	ca, ctl := tlsControllerWithPop(t)

	proxy := newCutProxy(t, ctl.Addr)
	expires := time.Now().Add(4 * time.Second)
	short := ca.Issue(t, authntest.Subject{CommonName: "tokyo", OUs: []string{"agent"}, NotAfter: expires})
	a, err := agent.New(agent.Config{
		Pop:           "tokyo",
		Controller:    proxy.addr(),
		StateDir:      t.TempDir(),
		MetricsListen: "127.0.0.1:0",
		Origination:   agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24"}},
		TLS:           agent.TLSFiles{CA: ca.CertFile, Cert: short.Cert, Key: short.Key},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("agent stopped with: %v", err)
		}
	})
	awaitAgent(t, "the agent to connect", a.ControllerConnected)

	renewed := ca.Client(t, "tokyo", authn.RoleAgent)
	authntest.Rewrite(t, short, renewed)
	renewedNotAfter := certNotAfter(t, short.Cert)
	time.Sleep(time.Until(expires.Add(time.Second))) // not synchronisation: the first certificate must have expired
	proxy.cut()
	awaitAgent(t, "the agent to notice the broken stream", func() bool { return !a.ControllerConnected() })
	awaitAgent(t, "the agent to reconnect with the renewed certificate", a.ControllerConnected)

	want := fmt.Sprintf("anyctl_tls_certificate_expiry_timestamp_seconds{file=%q} %s", short.Cert, fmt.Sprint(float64(renewedNotAfter)))
	body := scrapeAgent(t, "http://"+a.MetricsAddr().String()+"/metrics")
	if !strings.Contains(body, want) {
		t.Errorf("agent metrics lack %q", want)
	}
}

func awaitAgent(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scrapeAgent(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func certNotAfter(t *testing.T, path string) int64 {
	t.Helper()
	r, err := authn.NewReloader(authn.Files{Cert: path, Key: strings.TrimSuffix(path, ".pem") + "-key.pem"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r.Leaf().NotAfter.Unix()
}
