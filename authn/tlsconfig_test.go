package authn_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
)

func TestTLSFileErrorsNameTheFlagAndFile(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	good := ca.ClientFiles(t, "alice", authn.RoleAdmin)
	other := ca.Client(t, "bob", authn.RoleAdmin)
	expired := ca.Issue(t, authntest.Subject{CommonName: "old", OUs: []string{"admin"}, NotAfter: time.Now().Add(-time.Minute)})
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "agent.pem")
	with := func(f func(*authn.Files)) authn.Files {
		files := good
		f(&files)
		return files
	}
	for _, c := range []struct {
		desc  string
		files authn.Files
		err   string
	}{
		{desc: "good", files: good},
		{desc: "cert file missing", files: with(func(f *authn.Files) { f.Cert = missing }),
			err: `--tls-cert "` + missing + `": open ` + missing + `: no such file or directory`},
		{desc: "key file missing", files: with(func(f *authn.Files) { f.Key = missing }),
			err: `--tls-key "` + missing + `": open `},
		{desc: "CA without a certificate", files: with(func(f *authn.Files) { f.CA = notPEM }),
			err: `--tls-ca "` + notPEM + `": no PEM certificate in it`},
		{desc: "key of another certificate", files: with(func(f *authn.Files) { f.Key = other.Key }),
			err: `--tls-cert "` + good.Cert + `" and --tls-key "` + other.Key + `": tls: private key does not match public key`},
		{desc: "expired", files: with(func(f *authn.Files) { f.Cert, f.Key = expired.Cert, expired.Key }),
			err: `--tls-cert "` + expired.Cert + `": the certificate expired at`},
		{desc: "CA alone", files: authn.Files{CA: good.CA, Names: authn.ClientFlags},
			err: `--tls-ca, --tls-cert and --tls-key: give all three or none (missing --tls-cert, --tls-key)`},
		{desc: "names of a config file", files: authn.Files{CA: good.CA, Cert: missing, Key: good.Key, Names: authn.Names{CA: "tls.ca", Cert: "tls.cert", Key: "tls.key"}},
			err: `tls.cert "` + missing + `": open`},
	} {
		t.Run(c.desc, func(t *testing.T) {
			_, err := authn.ClientConfig(c.files, "localhost")
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("ClientConfig: %v; want an error containing %q", err, c.err)
			}
		})
	}
}

func TestServerConfigRequiresClientCertificates(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	cfg, err := authn.ServerConfig(ca.ServerFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth.String() != "RequireAndVerifyClientCert" || cfg.ClientCAs == nil {
		t.Errorf("ClientAuth = %v with ClientCAs %v; want RequireAndVerifyClientCert against the CA", cfg.ClientAuth, cfg.ClientCAs)
	}
	if _, err := authn.ServerConfig(authn.Files{Cert: "a.pem", Key: "a-key.pem", Names: authn.ServerFlags}); err == nil ||
		!strings.Contains(err.Error(), "missing --tls-client-ca") {
		t.Errorf("ServerConfig without a client CA: %v; want it named as missing", err)
	}
}

func TestServerName(t *testing.T) {
	for _, c := range []struct{ addr, override, want string }{
		{"controller.example.net:7400", "", "controller.example.net"},
		{"10.0.0.1:7400", "", "10.0.0.1"},
		{"[2001:db8::1]:7400", "", "2001:db8::1"},
		{"unix:/run/anyctl.sock", "", "localhost"},
		{"unix:/run/anyctl.sock", "controller.example.net", "controller.example.net"},
		{"10.0.0.1:7400", "controller.example.net", "controller.example.net"},
	} {
		if got := authn.ServerName(c.addr, c.override); got != c.want {
			t.Errorf("ServerName(%q, %q) = %q, want %q", c.addr, c.override, got, c.want)
		}
	}
}
