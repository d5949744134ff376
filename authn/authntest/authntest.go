// Package authntest issues throwaway certificates for tests of mutual TLS:
// a CA per test, a controller certificate for loopback, and client
// certificates carrying a role, all written as PEM files in the test's
// temporary directory.
package authntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn"
)

// CA is a certificate authority that lives as long as one test.
type CA struct {
	// CertFile is the CA certificate (PEM): the controller's
	// --tls-client-ca and the clients' --tls-ca.
	CertFile string

	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

// Pair is a certificate and its key, as PEM files.
type Pair struct{ Cert, Key string }

// Subject is what a certificate certifies.
type Subject struct {
	CommonName string
	// OUs are the Subject OrganizationalUnits; a role is one of them.
	OUs []string
	// DNSNames and IPs are the SANs of a server certificate.
	DNSNames []string
	IPs      []net.IP
	// NotAfter is the end of validity; zero means a day from now.
	NotAfter time.Time
}

// NewCA makes a CA named name (ECDSA P-256) and writes its certificate.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("CA %q: %v", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := &CA{cert: cert, key: key, dir: dir, CertFile: filepath.Join(dir, name+"-ca.pem")}
	writePEM(t, ca.CertFile, "CERTIFICATE", der)
	return ca
}

// Issue signs a certificate for s, usable by clients and servers alike.
func (ca *CA) Issue(t testing.TB, s Subject) Pair {
	t.Helper()
	key := newKey(t)
	notAfter := s.NotAfter
	if notAfter.IsZero() {
		notAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: s.CommonName, OrganizationalUnit: s.OUs},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		DNSNames:     s.DNSNames,
		IPAddresses:  s.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("certificate %q: %v", s.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(ca.dir, s.CommonName+"-"+serial(t).Text(36))
	p := Pair{Cert: base + ".pem", Key: base + "-key.pem"}
	writePEM(t, p.Cert, "CERTIFICATE", der)
	writePEM(t, p.Key, "PRIVATE KEY", keyDER)
	return p
}

// Server issues the controller's certificate, valid for localhost,
// 127.0.0.1 and ::1.
func (ca *CA) Server(t testing.TB) Pair {
	t.Helper()
	return ca.Issue(t, Subject{CommonName: "controller", DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}})
}

// Client issues a client certificate for name with role.
func (ca *CA) Client(t testing.TB, name string, role authn.Role) Pair {
	t.Helper()
	return ca.Issue(t, Subject{CommonName: name, OUs: []string{string(role)}})
}

// ServerFiles are the controller's files: its certificate, and this CA
// for its clients'.
func (ca *CA) ServerFiles(t testing.TB) authn.Files {
	t.Helper()
	p := ca.Server(t)
	return authn.Files{CA: ca.CertFile, Cert: p.Cert, Key: p.Key, Names: authn.ServerFlags}
}

// ClientFiles are a client's files: a certificate for name with role, and
// this CA for the controller's.
func (ca *CA) ClientFiles(t testing.TB, name string, role authn.Role) authn.Files {
	t.Helper()
	p := ca.Client(t, name, role)
	return authn.Files{CA: ca.CertFile, Cert: p.Cert, Key: p.Key, Names: authn.ClientFlags}
}

// ClientTLS is a client's TLS config for a controller on loopback, with a
// certificate for name with role.
func (ca *CA) ClientTLS(t testing.TB, name string, role authn.Role) *tls.Config {
	t.Helper()
	cfg, err := authn.ClientConfig(ca.ClientFiles(t, name, role), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Rewrite puts src's certificate and key into dst's files in place, as a
// renewer that rewrites them does: the certificate first, then the key.
func Rewrite(t testing.TB, dst, src Pair) {
	t.Helper()
	for _, f := range []struct{ dst, src string }{{dst.Cert, src.Cert}, {dst.Key, src.Key}} {
		b, err := os.ReadFile(f.src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// RenameOver puts src's certificate and key in place of dst's by renaming
// copies over them, as a renewer that writes new files and renames them
// does: the certificate first, then the key.
func RenameOver(t testing.TB, dst, src Pair) {
	t.Helper()
	for _, f := range []struct{ dst, src string }{{dst.Cert, src.Cert}, {dst.Key, src.Key}} {
		b, err := os.ReadFile(f.src)
		if err != nil {
			t.Fatal(err)
		}
		tmp := f.dst + ".new"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.dst); err != nil {
			t.Fatal(err)
		}
	}
}

// ReadCert reads the certificate of a PEM file.
func ReadCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	p, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
