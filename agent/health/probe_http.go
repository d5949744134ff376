package health

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// maxBody is how much of a response body an ExpectBody check reads.
const maxBody = 64 << 10

// httpProber sends GET requests over a shared transport with keep-alives
// off: every probe opens a fresh connection, so a dead listener is seen even
// when an old connection to it would still answer.
type httpProber struct {
	client  *http.Client
	url     string
	host    string
	want    int
	body    string
	timeout time.Duration
}

func newHTTPProber(s Spec) *httpProber {
	tlsConf := &tls.Config{
		// The operator asked for it, for self-signed service certificates.
		InsecureSkipVerify: s.InsecureSkipVerify, //nolint:gosec
	}
	if s.Host != "" {
		tlsConf.ServerName = hostOnly(s.Host)
	}
	tr := &http.Transport{
		Proxy:                  nil, // a local check never goes through a proxy
		DialContext:            (&net.Dialer{}).DialContext,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		TLSClientConfig:        tlsConf,
		MaxResponseHeaderBytes: maxBody,
	}
	u := url.URL{Scheme: s.Protocol, Host: s.Target, Path: s.Path}
	return &httpProber{
		client: &http.Client{
			Transport: tr,
			// The status of the target itself is checked, not where it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		url:     u.String(),
		host:    s.Host,
		want:    s.ExpectedStatus,
		body:    s.ExpectBody,
		timeout: s.Timeout,
	}
}

// Probe sends one GET and checks the status and, when asked, the body.
func (p *httpProber) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", p.url, err)
	}
	if p.host != "" {
		req.Host = p.host
	}
	req.Header.Set("User-Agent", "anyctl-health")
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("GET %s: no response within %s: %w", p.url, p.timeout, err)
		}
		return fmt.Errorf("GET %s: %w", p.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != p.want {
		return fmt.Errorf("GET %s: status %d, want %d", p.url, resp.StatusCode, p.want)
	}
	if p.body == "" {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("GET %s: reading body: %w", p.url, err)
	}
	if !bytes.Contains(b, []byte(p.body)) {
		return fmt.Errorf("GET %s: body does not contain %q (read %d bytes)", p.url, p.body, len(b))
	}
	return nil
}

// hostOnly strips a port from a Host header value.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
