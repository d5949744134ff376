package console_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/chromedp/chromedp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// tlsConsole runs a controller with mutual TLS and its console on
// loopback, with the example deployment applied by an admin.
func tlsConsole(t *testing.T) (*authntest.CA, *controllertest.Running, *url.URL) {
	t.Helper()
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	r := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
		c.ConsoleListen = "127.0.0.1:0"
	})
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	admin := adminClient(t, ca, r.Addr, "alice", authn.RoleAdmin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("applying the example deployment: %v", err)
	}
	u, err := url.Parse(r.Ctrl.ConsoleURL())
	if err != nil || u.Scheme != "https" {
		t.Fatalf("console URL %q: want https (err %v)", r.Ctrl.ConsoleURL(), err)
	}
	return ca, r, u
}

func adminClient(t *testing.T, ca *authntest.CA, addr, name string, role authn.Role) v1.AdminServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(ca.ClientTLS(t, name, role))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return v1.NewAdminServiceClient(conn)
}

// httpsClient talks to the console with a client certificate.
func httpsClient(t *testing.T, ca *authntest.CA, name string, role authn.Role) *http.Client {
	t.Helper()
	cfg := ca.ClientTLS(t, name, role)
	cfg.NextProtos = nil
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

// asCaller is a loopback proxy holding one caller's client certificate:
// the browser reaches the TLS console through it as that caller, as a
// browser with the certificate installed would.
func asCaller(t *testing.T, ca *authntest.CA, console *url.URL, name string, role authn.Role) string {
	t.Helper()
	p := httputil.NewSingleHostReverseProxy(console)
	p.Transport = httpsClient(t, ca, name, role).Transport
	p.FlushInterval = -1 // pass the event stream through as it comes
	inner := p.Director
	p.Director = func(r *http.Request) {
		inner(r)
		r.Host = console.Host
		if o := r.Header.Get("Origin"); o != "" {
			r.Header.Set("Origin", console.Scheme+"://"+console.Host)
		}
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func TestConsoleTLSRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a controller")
	}
	ca, r, console := tlsConsole(t)

	// Without a client certificate the handshake fails.
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.ClientTLS(t, "x", authn.RoleViewer).RootCAs}}, Timeout: 10 * time.Second}
	if resp, err := plain.Get(console.String() + "api/session"); err == nil {
		resp.Body.Close()
		t.Errorf("GET without a client certificate: status %s, want a refused handshake", resp.Status)
	}
	// An agent's or DNS server's certificate is refused: only viewers and
	// admins get in.
	for _, role := range []authn.Role{authn.RoleAgent, authn.RoleDNS} {
		for _, path := range []string{"", "app.js", "api/session", "api/stream"} {
			code, body := do(t, httpsClient(t, ca, "tokyo", role), http.MethodGet, console.String()+path, nil, nil)
			if code != http.StatusForbidden || !strings.Contains(body, "needs role viewer or admin") {
				t.Errorf("GET /%s as role %s: %d %s, want 403 naming the roles", path, role, code, body)
			}
		}
	}

	// A viewer sees the console; a drain POST with the right origin and
	// the viewer's own token is refused for the role.
	viewer := httpsClient(t, ca, "victor", authn.RoleViewer)
	code, body := do(t, viewer, http.MethodGet, console.String()+"api/session", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/session as viewer: %d %s", code, body)
	}
	var sess struct {
		Caller struct{ Name, Role string }
		CSRF   string
	}
	if err := json.Unmarshal([]byte(body), &sess); err != nil || sess.Caller.Role != "viewer" || sess.CSRF == "" {
		t.Fatalf("viewer session %s: %v", body, err)
	}
	origin := console.Scheme + "://" + console.Host
	forged := map[string]string{"Origin": origin, "Content-Type": "application/json", "X-Anyctl-CSRF": sess.CSRF}
	code, body = do(t, viewer, http.MethodPost, console.String()+"api/pops/london/drain", forged, strings.NewReader(`{}`))
	if code != http.StatusForbidden || !strings.Contains(body, `caller \"victor\" has role viewer; this action needs role admin`) {
		t.Errorf("drain as viewer: %d %s, want 403 naming the role", code, body)
	}

	// An admin's request from another origin, or without the token, is
	// refused too: a page elsewhere cannot drive an admin's browser.
	admin := httpsClient(t, ca, "alice", authn.RoleAdmin)
	_, body = do(t, admin, http.MethodGet, console.String()+"api/session", nil, nil)
	if err := json.Unmarshal([]byte(body), &sess); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"other origin", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json", "X-Anyctl-CSRF": sess.CSRF}, "is not this console"},
		{"no origin", map[string]string{"Content-Type": "application/json", "X-Anyctl-CSRF": sess.CSRF}, "is not this console"},
		{"form post", map[string]string{"Origin": origin, "Content-Type": "application/x-www-form-urlencoded", "X-Anyctl-CSRF": sess.CSRF}, "want application/json"},
		{"no token", map[string]string{"Origin": origin, "Content-Type": "application/json"}, "X-Anyctl-CSRF"},
		{"viewer's token", map[string]string{"Origin": origin, "Content-Type": "application/json", "X-Anyctl-CSRF": "x" + sess.CSRF}, "X-Anyctl-CSRF"},
	} {
		code, body := do(t, admin, http.MethodPost, console.String()+"api/pops/london/drain", c.headers, strings.NewReader(`{}`))
		if code != http.StatusForbidden || !strings.Contains(body, c.want) {
			t.Errorf("admin drain, %s: %d %s, want 403 with %q", c.name, code, body, c.want)
		}
	}
	// Nothing was drained.
	assertNotDrained(t, adminClient(t, ca, r.Addr, "alice", authn.RoleAdmin), "london")

	// The same request with the admin's token from the console's origin
	// reaches the drain (which the minimum-PoP guard may refuse: no agent
	// reports here, so nothing announces).
	code, body = do(t, admin, http.MethodPost, console.String()+"api/pops/london/drain", map[string]string{"Origin": origin, "Content-Type": "application/json", "X-Anyctl-CSRF": sess.CSRF}, strings.NewReader(`{}`))
	if code == http.StatusForbidden {
		t.Errorf("admin drain from the console's origin with its token: %d %s, want it to reach the drain", code, body)
	}
	t.Logf("admin drain with token: %d %s", code, strings.TrimSpace(body))

	// In a browser, the viewer sees the PoP page without a drain button.
	page := asCaller(t, ca, console, "victor", authn.RoleViewer)
	ctx := browser(t) // closed first, so that the proxy has no open stream left
	run(t, ctx, 30*time.Second, "viewer opens london", chromedp.Navigate(page+"#/pop/london"),
		chromedp.WaitReady(chromedp.CSS(`#pop-step[data-step="silent"]`)))
	who := get(t, ctx, "read the caller", chromedp.Text(chromedp.CSS(`#who`)))
	if who != "victor (viewer)" {
		t.Errorf("header shows %q, want victor (viewer)", who)
	}
	n := get(t, ctx, "count drain buttons", chromedp.Evaluate[int](`document.querySelectorAll("#drain-btn, #undrain-btn, #actions").length`))
	if n != 0 {
		t.Errorf("viewer's PoP page has %d drain controls, want none", n)
	}
	screenshot(t, ctx, "pop-london-viewer")
}

func do(t *testing.T, c *http.Client, method, url string, headers map[string]string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func assertNotDrained(t *testing.T, admin v1.AdminServiceClient, pop string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := admin.Status(ctx, &v1.StatusRequest{Pop: pop})
	if err != nil {
		t.Fatal(err)
	}
	if s := st.GetPops()[0].GetDrain().GetStep(); s != v1.DrainStep_DRAIN_STEP_NONE {
		t.Errorf("Pop %s drain step %s after refused requests, want NONE", pop, s)
	}
}
