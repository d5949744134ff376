// Package controlconn dials a controller for the long-lived streams that
// agents (the Agent API) and DNS servers (the GSLB feed) hold: with
// keepalive pings, so that a dead controller or a broken path is noticed
// in seconds rather than when the kernel gives up on the connection.
package controlconn

import (
	"crypto/tls"
	"time"

	"google.golang.org/grpc"
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
		creds = explainingCreds{TransportCredentials: credentials.NewTLS(tlsCfg), tls: true, hasCert: len(tlsCfg.Certificates) > 0 || tlsCfg.GetClientCertificate != nil}
	}
	return grpc.NewClient(addr, append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepaliveParams),
	}, opts...)...)
}
