package authn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Files are the PEM files of one end of mutual TLS: the CA that signed the
// other end's certificates, and this end's certificate and key.
type Files struct {
	CA, Cert, Key string
	// Names are the flags or settings that gave each file, for errors.
	Names Names
}

// Names name the flag or setting behind each of Files, so that an error
// says which one to fix.
type Names struct{ CA, Cert, Key string }

// The usual names: a client's flags, and the controller's.
var (
	ClientFlags = Names{CA: "--tls-ca", Cert: "--tls-cert", Key: "--tls-key"}
	ServerFlags = Names{CA: "--tls-client-ca", Cert: "--tls-cert", Key: "--tls-key"}
)

// Enabled reports whether any file is set.
func (f Files) Enabled() bool { return f.CA != "" || f.Cert != "" || f.Key != "" }

// Check requires all three files or none.
func (f Files) Check() error {
	if !f.Enabled() || f.CA != "" && f.Cert != "" && f.Key != "" {
		return nil
	}
	var missing []string
	for _, s := range []struct{ name, path string }{{f.Names.CA, f.CA}, {f.Names.Cert, f.Cert}, {f.Names.Key, f.Key}} {
		if s.path == "" {
			missing = append(missing, s.name)
		}
	}
	return fmt.Errorf("%s, %s and %s: give all three or none (missing %s)", f.Names.CA, f.Names.Cert, f.Names.Key, strings.Join(missing, ", "))
}

// ServerConfig is the controller's TLS: its certificate, and every client
// must present a certificate signed by the CA. TLS 1.2 is the minimum; Go
// negotiates 1.3 with every client that has it.
func ServerConfig(f Files) (*tls.Config, error) {
	pool, cert, err := load(f)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// ClientConfig is a client's TLS: it presents its certificate and verifies
// that the controller's, signed by the CA, names serverName.
func ClientConfig(f Files, serverName string) (*tls.Config, error) {
	pool, cert, err := load(f)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ServerName:   serverName,
	}, nil
}

// ServerName is the name a client checks the controller's certificate
// against: override when given, else the host part of the controller's
// address, and "localhost" for a unix: socket.
func ServerName(addr, override string) string {
	if override != "" {
		return override
	}
	if strings.HasPrefix(addr, "unix:") {
		return "localhost"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// Leaf is the certificate of a config ClientConfig or ServerConfig built.
func Leaf(cfg *tls.Config) *x509.Certificate {
	if cfg == nil || len(cfg.Certificates) == 0 {
		return nil
	}
	return cfg.Certificates[0].Leaf
}

func loadPool(name, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", name, path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %q: no PEM certificate in it", name, path)
	}
	return pool, nil
}

// loadPair reads the certificate and key, each naming its own file when it
// cannot be read, and refuses a certificate outside its validity period.
func loadPair(f Files) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(f.Cert)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s %q: %w", f.Names.Cert, f.Cert, err)
	}
	keyPEM, err := os.ReadFile(f.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s %q: %w", f.Names.Key, f.Key, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s %q and %s %q: %w", f.Names.Cert, f.Cert, f.Names.Key, f.Key, err)
	}
	if cert.Leaf == nil {
		return tls.Certificate{}, fmt.Errorf("%s %q: no certificate in it", f.Names.Cert, f.Cert)
	}
	now := time.Now()
	switch {
	case now.After(cert.Leaf.NotAfter):
		return tls.Certificate{}, fmt.Errorf("%s %q: the certificate expired at %s", f.Names.Cert, f.Cert, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(cert.Leaf.NotBefore):
		return tls.Certificate{}, fmt.Errorf("%s %q: the certificate is not valid before %s", f.Names.Cert, f.Cert, cert.Leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return cert, nil
}

// load checks the files are all given and reads the CA pool and the key
// pair.
func load(f Files) (*x509.CertPool, tls.Certificate, error) {
	if err := f.Check(); err != nil {
		return nil, tls.Certificate{}, err
	}
	pool, err := loadPool(f.Names.CA, f.CA)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	cert, err := loadPair(f)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	return pool, cert, nil
}
