package controlconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/credentials"
)

// verdictWait bounds how long a TLS 1.3 client waits after its handshake
// for the controller's verdict on its certificate (the first bytes or an
// alert). A gRPC server speaks at once, so this only costs time against a
// server that says nothing.
const verdictWait = 3 * time.Second

// explainingCreds wrap a client's transport credentials so that a refused
// handshake says what was refused and why, instead of "write: broken pipe"
// or "error reading server preface: EOF".
type explainingCreds struct {
	credentials.TransportCredentials
	tls bool
	// hasCert is set when the client has a certificate to present.
	hasCert bool
}

func (c explainingCreds) Clone() credentials.TransportCredentials {
	return explainingCreds{TransportCredentials: c.TransportCredentials.Clone(), tls: c.tls, hasCert: c.hasCert}
}

func (c explainingCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		return nil, nil, explainTLS(err, c.hasCert)
	}
	ec := &explainingConn{Conn: conn, tls: c.tls, hasCert: c.hasCert}
	// In TLS 1.3 the server checks the client's certificate after the
	// client has finished its handshake: its verdict is the first thing
	// it sends. Wait for it here, where a refusal can be named.
	if ti, ok := info.(credentials.TLSInfo); ok && ti.State.Version == tls.VersionTLS13 {
		if err := ec.awaitVerdict(ctx); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return ec, info, nil
}

// explainingConn is a connection whose early failures are explained: a
// controller that closes it before sending anything most likely refused
// it.
type explainingConn struct {
	net.Conn
	tls, hasCert bool
	// pending is what awaitVerdict read and Read has not yet returned.
	pending []byte
	// spoke is set once the controller has sent anything.
	spoke bool
}

func (c *explainingConn) awaitVerdict(ctx context.Context) error {
	deadline := time.Now().Add(verdictWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.Conn.SetReadDeadline(deadline)
	defer c.Conn.SetReadDeadline(time.Time{})
	buf := make([]byte, 4096)
	n, err := c.Conn.Read(buf)
	c.pending = buf[:n]
	if n > 0 {
		c.spoke = true
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return c.explain(err)
	}
	return nil
}

func (c *explainingConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.spoke = true
	}
	if err != nil {
		err = c.explain(err)
	}
	return n, err
}

func (c *explainingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		err = c.explain(err)
	}
	return n, err
}

// explain names the likely cause of an error on a connection the
// controller closed before it said anything.
func (c *explainingConn) explain(err error) error {
	if e := explainTLS(err, c.hasCert); e != err {
		return e
	}
	if c.spoke || !closedByPeer(err) {
		return err
	}
	if !c.tls {
		return fmt.Errorf("%w (the controller closed the connection before answering: it speaks TLS; set --tls-ca, --tls-cert and --tls-key)", err)
	}
	return fmt.Errorf("%w (the controller closed the connection after the TLS handshake: it most likely refused our certificate, not signed by its --tls-client-ca or expired)", err)
}

func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// explainTLS maps TLS failures to what was refused and why; other errors
// come back as they are. hasCert says whether the client had a
// certificate: Go presents one only when the server's CA list names its
// issuer, so a certificate from another CA reaches the controller as none.
func explainTLS(err error, hasCert bool) error {
	msg := err.Error()
	var why string
	switch {
	case strings.Contains(msg, "remote error: tls: unknown certificate authority"), strings.Contains(msg, "remote error: tls: bad certificate"):
		why = "the controller refused our certificate: it was not signed by the controller's CA (its --tls-client-ca)"
	case hasCert && strings.Contains(msg, "remote error: tls: certificate required"):
		why = "the controller refused our certificate: it was not signed by the controller's CA (its --tls-client-ca), so it was not even sent"
	case strings.Contains(msg, "remote error: tls: certificate required"):
		why = "the controller refused us: it requires a client certificate; set --tls-cert and --tls-key"
	case strings.Contains(msg, "remote error: tls: expired certificate"):
		why = "the controller refused our certificate: it has expired or is not yet valid"
	case strings.Contains(msg, "certificate signed by unknown authority"):
		why = "we refused the controller's certificate: it is not signed by --tls-ca"
	case strings.Contains(msg, "certificate is valid for"), strings.Contains(msg, "certificate is not valid for any names"):
		why = "we refused the controller's certificate: it does not name the address we dialled (set --tls-server-name, or reissue it)"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		why = "the controller speaks plain text: drop --tls-ca, --tls-cert and --tls-key, or give the controller its TLS flags"
	default:
		return err
	}
	return fmt.Errorf("%s: %w", why, err)
}
