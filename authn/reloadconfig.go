package authn

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"

	"google.golang.org/grpc/credentials"
)

// ServerConfig is the server's side of mutual TLS (as the package's
// ServerConfig) over the files in use: each handshake gets the certificate
// and client CA of the last good reading, through GetConfigForClient.
// nextProtos are the ALPN protocols the server speaks ("h2" for gRPC).
func (r *Reloader) ServerConfig(nextProtos ...string) *tls.Config {
	v := &serverView{r: r, nextProtos: nextProtos}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ClientAuth:         tls.RequireAndVerifyClientCert,
		NextProtos:         nextProtos,
		GetConfigForClient: v.config,
	}
}

// serverView hands each handshake the config of the snapshot in use.
type serverView struct {
	r          *Reloader
	nextProtos []string
	// last is the config built for the last snapshot a handshake saw.
	last atomic.Pointer[serverBuilt]
}

type serverBuilt struct {
	s   *snapshot
	cfg *tls.Config
}

func (v *serverView) config(*tls.ClientHelloInfo) (*tls.Config, error) {
	s := v.r.current()
	if b := v.last.Load(); b != nil && b.s == s {
		return b.cfg, nil
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  s.pool,
		NextProtos: v.nextProtos,
	}
	if s.cert != nil {
		cfg.Certificates = []tls.Certificate{*s.cert}
	}
	v.last.Store(&serverBuilt{s: s, cfg: cfg})
	return cfg, nil
}

// ClientConfig is a client's side of mutual TLS (as the package's
// ClientConfig) from the files in use now. A client takes a fresh one for
// each connection; Credentials does so for each handshake.
func (r *Reloader) ClientConfig(serverName string) *tls.Config {
	s := r.current()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: s.pool, ServerName: serverName}
	if s.cert != nil {
		cfg.Certificates = []tls.Certificate{*s.cert}
	}
	return cfg
}

// Credentials are gRPC transport credentials that take the TLS config
// from config afresh for each handshake, so that a client connection
// gRPC re-establishes uses the files in use then.
func Credentials(config func() *tls.Config) credentials.TransportCredentials {
	return &reloadingCreds{config: config}
}

type reloadingCreds struct {
	config func() *tls.Config
	// serverName is set by OverrideServerName.
	serverName string
}

func (c *reloadingCreds) current() credentials.TransportCredentials {
	cfg := c.config()
	if c.serverName != "" {
		cfg = cfg.Clone()
		cfg.ServerName = c.serverName
	}
	return credentials.NewTLS(cfg)
}

func (c *reloadingCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.current().ClientHandshake(ctx, authority, raw)
}

func (c *reloadingCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.current().ServerHandshake(raw)
}

func (c *reloadingCreds) Info() credentials.ProtocolInfo { return c.current().Info() }

func (c *reloadingCreds) Clone() credentials.TransportCredentials {
	cc := *c
	return &cc
}

// OverrideServerName is gRPC's deprecated way to set the name checked.
func (c *reloadingCreds) OverrideServerName(name string) error {
	c.serverName = name
	return nil
}
