package authn_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/prometheus/client_golang/prometheus"
)

// syncBuffer is a log sink tests read while the code under test writes.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// echoServer serves TLS with cfg on loopback, echoing what it reads.
func echoServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return lis.Addr().String()
}

// serialOf dials addr with cfg and returns the serial of the server's
// certificate, and the open connection.
func serialOf(t *testing.T, addr string, cfg *tls.Config) (*big.Int, *tls.Conn) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	echo(t, c)
	return c.ConnectionState().PeerCertificates[0].SerialNumber, c
}

// echo checks that c still carries data both ways.
func echo(t *testing.T, c *tls.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
}

// await polls cond for up to 10 s.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func serialFile(t *testing.T, path string) *big.Int {
	t.Helper()
	return authntest.ReadCert(t, path).SerialNumber
}

// metric is the value of the series of r's metric name whose labels
// include want (name=value pairs); -1 when there is none.
func metric(t *testing.T, r *authn.Reloader, name string, want ...string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(authn.Collector(r))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(want); i += 2 {
				if labels[want[i]] != want[i+1] {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func TestServerCertificateRotatedInPlace(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	files := ca.ServerFiles(t)
	logs := &syncBuffer{}
	r, err := authn.NewReloader(files, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := echoServer(t, r.ServerConfig())
	client := ca.ClientTLS(t, "alice", authn.RoleAdmin)

	first, open := serialOf(t, addr, client)
	if want := r.Leaf().SerialNumber; first.Cmp(want) != 0 {
		t.Fatalf("server serial %x, want %x", first, want)
	}
	renewed := ca.Server(t)
	authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, renewed)
	want := serialFile(t, renewed.Cert)
	await(t, "a new connection to see the renewed certificate", func() bool {
		s, c := serialOf(t, addr, client)
		c.Close()
		return s.Cmp(want) == 0
	})
	echo(t, open) // the connection made before goes on
	if got := open.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(first) != 0 {
		t.Fatalf("open connection's serial %x, want %x", got, first)
	}
	if !strings.Contains(logs.String(), "TLS files reloaded") {
		t.Errorf("no reload logged:\n%s", logs)
	}
	if got := metric(t, r, "anyctl_tls_reloads_total", "result", "ok"); got != 1 {
		t.Errorf("reloads ok = %v, want 1", got)
	}
}

func TestBadRewriteKeepsTheCertificateInUse(t *testing.T) {
	for _, c := range []struct {
		desc    string
		rewrite func(t *testing.T, ca *authntest.CA, files authn.Files)
		err     string
	}{
		{"key of another certificate", func(t *testing.T, ca *authntest.CA, files authn.Files) {
			other := ca.Server(t)
			authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, authntest.Pair{Cert: other.Cert, Key: files.Key})
		}, "private key does not match public key"},
		{"certificate not PEM", func(t *testing.T, ca *authntest.CA, files authn.Files) {
			writeFile(t, files.Cert, "-----BEGIN CERTIFICATE-----\ntruncat")
		}, "failed to find any PEM data in certificate input"},
		{"key file removed", func(t *testing.T, ca *authntest.CA, files authn.Files) {
			if err := os.Remove(files.Key); err != nil {
				t.Fatal(err)
			}
		}, "no such file or directory"},
		{"expired certificate", func(t *testing.T, ca *authntest.CA, files authn.Files) {
			old := ca.Issue(t, authntest.Subject{CommonName: "controller", DNSNames: []string{"localhost"}, NotAfter: time.Now().Add(-time.Minute)})
			authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, old)
		}, "the certificate expired at"},
		{"client CA not PEM", func(t *testing.T, ca *authntest.CA, files authn.Files) {
			writeFile(t, files.CA, "not a certificate\n")
		}, "--tls-client-ca"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			t.Parallel()
			ca := authntest.NewCA(t, "test")
			files := ca.ServerFiles(t)
			logs := &syncBuffer{}
			r, err := authn.NewReloader(files, slog.New(slog.NewTextHandler(logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			addr := echoServer(t, r.ServerConfig())
			client := ca.ClientTLS(t, "alice", authn.RoleAdmin)
			first, _ := serialOf(t, addr, client)
			caPEM, err := os.ReadFile(files.CA)
			if err != nil {
				t.Fatal(err)
			}

			c.rewrite(t, ca, files)
			await(t, "the failing reload to show in the metric", func() bool {
				return metric(t, r, "anyctl_tls_reload_failing", "file", files.Cert) == 1
			})
			if s, _ := serialOf(t, addr, client); s.Cmp(first) != 0 {
				t.Fatalf("new connection got serial %x, want the one in use %x", s, first)
			}
			// Further checks and handshakes do not log it again.
			for range 3 {
				time.Sleep(400 * time.Millisecond)
				serialOf(t, addr, client)
			}
			if n := strings.Count(logs.String(), "do not load"); n != 1 {
				t.Fatalf("failure logged %d times, want once:\n%s", n, logs)
			}
			if !strings.Contains(logs.String(), c.err) {
				t.Fatalf("log does not say %q:\n%s", c.err, logs)
			}
			if got := metric(t, r, "anyctl_tls_reloads_total", "result", "failed"); got != 1 {
				t.Fatalf("failed reloads %v, want 1", got)
			}

			// A good pair puts things right.
			renewed := ca.Server(t)
			authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, renewed)
			writeFile(t, files.CA, string(caPEM))
			await(t, "the renewed certificate", func() bool {
				s, _ := serialOf(t, addr, client)
				return s.Cmp(serialFile(t, renewed.Cert)) == 0
			})
			if got := metric(t, r, "anyctl_tls_reload_failing", "file", files.Cert); got != 0 {
				t.Fatalf("reload failing %v after a good rewrite, want 0", got)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHalfRewrittenPairIsNotFinal(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	files := ca.ServerFiles(t)
	logs := &syncBuffer{}
	r, err := authn.NewReloader(files, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := echoServer(t, r.ServerConfig())
	client := ca.ClientTLS(t, "alice", authn.RoleAdmin)
	first, _ := serialOf(t, addr, client)

	renewed := ca.Server(t)
	// The certificate is new, the key still the old one, for more than a
	// check's interval: handshakes meanwhile see the pair not match.
	authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, authntest.Pair{Cert: renewed.Cert, Key: files.Key})
	for range 3 {
		time.Sleep(400 * time.Millisecond)
		if s, _ := serialOf(t, addr, client); s.Cmp(first) != 0 {
			t.Fatalf("half-rewritten pair in use: serial %x", s)
		}
	}
	authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, renewed)
	await(t, "the renewed certificate", func() bool {
		s, _ := serialOf(t, addr, client)
		return s.Cmp(serialFile(t, renewed.Cert)) == 0
	})
	if strings.Contains(logs.String(), "do not load") {
		t.Fatalf("a pair being rewritten was logged as failing:\n%s", logs)
	}
	if got := metric(t, r, "anyctl_tls_reloads_total", "result", "failed"); got != 0 {
		t.Fatalf("failed reloads %v, want 0", got)
	}
}

// clientSerialServer serves mutual TLS with a fixed config and writes
// each client's certificate serial (hex) back to it.
func clientSerialServer(t *testing.T, ca *authntest.CA) string {
	t.Helper()
	cfg, err := authn.ServerConfig(ca.ServerFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					return
				}
				io.WriteString(tc, tc.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)+"\n")
			}()
		}
	}()
	return lis.Addr().String()
}

// clientSerial dials addr with cfg and returns the serial the server saw.
func clientSerial(addr string, cfg *tls.Config) (string, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func TestClientCertificateRotated(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	addr := clientSerialServer(t, ca)
	files := ca.ClientFiles(t, "tokyo", authn.RoleAgent)
	r, err := authn.NewReloader(files, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	first, err := clientSerial(addr, r.ClientConfig("127.0.0.1"))
	if err != nil || first != serialFile(t, files.Cert).Text(16) {
		t.Fatalf("first dial: serial %q, %v", first, err)
	}
	renewed := ca.Client(t, "tokyo", authn.RoleAgent)
	authntest.RenameOver(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, renewed)
	await(t, "the next dial to present the renewed certificate", func() bool {
		s, err := clientSerial(addr, r.ClientConfig("127.0.0.1"))
		return err == nil && s == serialFile(t, renewed.Cert).Text(16)
	})
}

func TestExpiredClientCertificateRenewed(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	addr := clientSerialServer(t, ca)
	short := ca.Issue(t, authntest.Subject{CommonName: "tokyo", OUs: []string{"agent"}, NotAfter: time.Now().Add(2 * time.Second)})
	files := authn.Files{CA: ca.CertFile, Cert: short.Cert, Key: short.Key, Names: authn.ClientFlags}
	r, err := authn.NewReloader(files, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientSerial(addr, r.ClientConfig("127.0.0.1")); err != nil {
		t.Fatalf("dial before expiry: %v", err)
	}
	await(t, "the server to refuse the expired certificate", func() bool {
		_, err := clientSerial(addr, r.ClientConfig("127.0.0.1"))
		return err != nil && strings.Contains(err.Error(), "expired")
	})
	renewed := ca.Client(t, "tokyo", authn.RoleAgent)
	authntest.Rewrite(t, short, renewed)
	await(t, "a dial with the renewed certificate", func() bool {
		s, err := clientSerial(addr, r.ClientConfig("127.0.0.1"))
		return err == nil && s == serialFile(t, renewed.Cert).Text(16)
	})
	if got := metric(t, r, "anyctl_tls_certificate_expiry_timestamp_seconds", "file", short.Cert); int64(got) != certNotAfter(t, renewed.Cert) {
		t.Fatalf("expiry metric %v, want the renewed certificate's %d", got, certNotAfter(t, renewed.Cert))
	}
}

func certNotAfter(t *testing.T, path string) int64 {
	t.Helper()
	p, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(p)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.NotAfter.Unix()
}

func TestRenewedCertificateMustMeetTheRequirement(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	files := ca.ClientFiles(t, "tokyo", authn.RoleAgent)
	logs := &syncBuffer{}
	r, err := authn.NewReloader(files, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tokyo := func(c *x509.Certificate) error {
		if c.Subject.CommonName != "tokyo" {
			return fmt.Errorf("the certificate is for %q, want tokyo", c.Subject.CommonName)
		}
		return nil
	}
	if err := r.Require(tokyo); err != nil {
		t.Fatal(err)
	}
	first := r.Leaf().SerialNumber
	authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, ca.Client(t, "london", authn.RoleAgent))
	await(t, "the refused certificate to show in the metric", func() bool {
		return metric(t, r, "anyctl_tls_reload_failing", "file", files.Cert) == 1
	})
	if r.Leaf().SerialNumber.Cmp(first) != 0 {
		t.Fatal("london's certificate was taken")
	}
	if !strings.Contains(logs.String(), `the certificate is for \"london\", want tokyo`) {
		t.Fatalf("log does not say why:\n%s", logs)
	}
	london, err := authn.NewReloader(files, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := london.Require(tokyo); err == nil {
		t.Fatal("Require accepted london's certificate in use")
	}
}

// TestCollectorOneSeriesPerFile: a controller whose API and etcd client
// share a certificate file exports it once; a registry refuses a scrape
// with the same series twice.
func TestCollectorOneSeriesPerFile(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	files := ca.ServerFiles(t)
	var rs []*authn.Reloader
	for range 2 {
		r, err := authn.NewReloader(files, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(authn.Collector(rs...))
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// TestSecretVolumeLinkSwapped renews the files as Kubernetes updates a
// mounted Secret: the files are links through ..data, a link to a
// directory of the current files, which is swapped for a new directory.
func TestSecretVolumeLinkSwapped(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	vol := t.TempDir()
	put := func(dir string, p authntest.Pair) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(vol, dir), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct{ name, src string }{{"tls.crt", p.Cert}, {"tls.key", p.Key}, {"ca.crt", ca.CertFile}} {
			writeFile(t, filepath.Join(vol, dir, f.name), string(mustRead(t, f.src)))
		}
		tmp := filepath.Join(vol, "..data_tmp")
		if err := os.Symlink(dir, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(vol, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	put("..2026_01", ca.Server(t))
	for _, name := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(vol, name)); err != nil {
			t.Fatal(err)
		}
	}
	files := authn.Files{CA: filepath.Join(vol, "ca.crt"), Cert: filepath.Join(vol, "tls.crt"), Key: filepath.Join(vol, "tls.key"), Names: authn.ServerFlags}
	r, err := authn.NewReloader(files, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := echoServer(t, r.ServerConfig())
	client := ca.ClientTLS(t, "alice", authn.RoleAdmin)
	renewed := ca.Server(t)
	put("..2026_02", renewed)
	await(t, "the renewed certificate", func() bool {
		s, c := serialOf(t, addr, client)
		c.Close()
		return s.Cmp(serialFile(t, renewed.Cert)) == 0
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
