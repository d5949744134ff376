// Package controlconn dials a controller for the long-lived streams that
// agents (the Agent API) and DNS servers (the GSLB feed) hold: with
// keepalive pings, so that a dead controller or a broken path is noticed
// in seconds rather than when the kernel gives up on the connection. A
// client given several replicas (a list, or a DNS name with several
// addresses) goes through them with a Rotation, moving on whenever a
// stream breaks.
package controlconn

import (
	"crypto/tls"
	"time"

	"github.com/anyctl/anyctl/authn"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// keepaliveParams: ping every 10 s, streams or not, and give the
// connection up after 5 s without an answer. The controller permits pings
// as often as every 5 s (its keepalive enforcement policy); pinging more
// often would get the connection closed with too_many_pings.
var keepaliveParams = keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}

// Dial returns a client connection to addr (host:port or unix:PATH):
// mutual TLS with tlsCfg (see authn.ClientConfig), plain text when it is
// nil, and keepalive pings. A refused connection says what was refused
// and why (a certificate the controller did not sign, a controller that
// speaks TLS to a plain-text client, ...). opts come after these and may add to them. Like
// grpc.NewClient it does not connect; the first call does.
func Dial(addr string, tlsCfg *tls.Config, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	creds := explainingCreds{TransportCredentials: insecure.NewCredentials()}
	if tlsCfg != nil {
		creds = explainingCreds{TransportCredentials: credentials.NewTLS(tlsCfg), tls: true, hasCert: hasCert(tlsCfg)}
	}
	return dial(addr, creds, opts)
}

// DialTLS is Dial with the TLS config tlsCfg gives at each handshake
// (authn.Reloader's ClientConfig, say), so that a connection made after
// the certificate files were renewed presents the renewed certificate and
// trusts the renewed CA. A nil tlsCfg speaks plain text.
func DialTLS(addr string, tlsCfg func() *tls.Config, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if tlsCfg == nil {
		return Dial(addr, nil, opts...)
	}
	return dial(addr, explainingCreds{TransportCredentials: authn.Credentials(tlsCfg), tls: true, hasCert: hasCert(tlsCfg())}, opts)
}

func hasCert(cfg *tls.Config) bool {
	return len(cfg.Certificates) > 0 || cfg.GetClientCertificate != nil
}

func dial(addr string, creds explainingCreds, opts []grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepaliveParams),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: grpcbackoff.DefaultConfig, MinConnectTimeout: connectTimeout}),
	}, opts...)...)
}

// FixedWindows are the dial options of a client that receives small
// messages, an agent's configs: fixed flow-control windows of 1 MiB, as
// the controller's side has. A fixed window turns off gRPC's bandwidth
// estimation, which pings the peer on nearly every message received to
// time the round trip: with it, every change cost the controller, for
// every agent, one more frame to read and a ping's answer to write. A
// client that receives large messages over long paths (a DNS server's
// snapshots) keeps the estimation, which grows its window to the path.
func FixedWindows() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithInitialWindowSize(1 << 20), grpc.WithInitialConnWindowSize(1 << 20)}
}

// connectTimeout bounds one connection attempt (TCP and TLS handshake): a
// replica whose host is gone does not answer at all, and the client is
// better moving on to the next replica than waiting out gRPC's 20 s.
const connectTimeout = 5 * time.Second

// DialTarget dials one target of a Rotation like Dial, with the name it
// was resolved from as the authority, so that a TLS certificate for the
// name is checked against the name.
func DialTarget(t Target, tlsCfg *tls.Config, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if t.Authority != "" {
		opts = append([]grpc.DialOption{grpc.WithAuthority(t.Authority)}, opts...)
	}
	return Dial(t.Addr, tlsCfg, opts...)
}

// DialTargetTLS dials one target of a Rotation like DialTLS, with the name
// it was resolved from as the authority.
func DialTargetTLS(t Target, tlsCfg func() *tls.Config, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if t.Authority != "" {
		opts = append([]grpc.DialOption{grpc.WithAuthority(t.Authority)}, opts...)
	}
	return DialTLS(t.Addr, tlsCfg, opts...)
}
