package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// callTimeout bounds what a command asks the Admin API (one callAdmin),
// connecting included.
const callTimeout = 30 * time.Second

// adminClient is an Admin API client for one command.
type adminClient struct {
	v1.AdminServiceClient
	conn   *grpc.ClientConn
	server serverChoice
	// tls is set when the client speaks mutual TLS.
	tls bool
}

// dialAdmin prepares a client for the controller the flags, environment or
// config file name. Nothing connects until the first call.
func dialAdmin(g *globals) (*adminClient, error) {
	server, err := resolveServer(g.server, g.configFile, osClientEnv())
	if err != nil {
		return nil, err
	}
	tlsCfg, err := resolveClientTLS(g, server, osClientEnv())
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	conn, err := grpc.NewClient(server.addr, grpc.WithTransportCredentials(creds), grpc.WithStatsHandler(sentHandler{}))
	if err != nil {
		return nil, fmt.Errorf("controller address %q (from %s): %w", server.addr, server.from, err)
	}
	return &adminClient{AdminServiceClient: v1.NewAdminServiceClient(conn), conn: conn, server: server, tls: tlsCfg != nil}, nil
}

func (c *adminClient) Close() error { return c.conn.Close() }

// callAdmin is how every client command talks to the controller: it dials
// it (as the flags, environment or config file say), runs call, bounded by
// callTimeout, on one connection, and turns call's error into one an
// operator can act on. call returns the API's errors as they come.
func callAdmin(ctx context.Context, g *globals, call func(context.Context, *adminClient) error) error {
	c, err := dialAdmin(g)
	if err != nil {
		return err
	}
	defer c.Close()
	timeout := callTimeout
	if t, ok := ctx.Value(callTimeoutKey{}).(time.Duration); ok {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rs, _ := ctx.Value(requestSentKey{}).(*requestSent)
	err = call(ctx, c)
	if rs != nil && outcomeUnknown(err, rs.sent.Load()) {
		return unknownOutcomeError{c.explain(err)}
	}
	return c.explain(err)
}

// callTimeoutKey carries a call's own timeout (a time.Duration) in place
// of callTimeout, for calls that may take long (restore).
type callTimeoutKey struct{}

// callAdminWrite is callAdmin for a call that changes state: when its
// request went out and no answer came back (the connection broke, the
// deadline passed), the error is an unknownOutcomeError rather than a
// failure, since the controller may have applied it.
func callAdminWrite(ctx context.Context, g *globals, call func(context.Context, *adminClient) error) error {
	return callAdmin(context.WithValue(ctx, requestSentKey{}, &requestSent{}), g, call)
}

// tlsHint suggests a fix when a connection failed on TLS: a plain-text
// client meeting a controller that requires TLS, or a certificate either
// end refused. A controller that refuses the client's certificate may just
// close the connection, so with TLS every failure but a refused dial gets
// the hint. It is "" for other failures.
func (c *adminClient) tlsHint(msg string) string {
	switch {
	case !c.tls && strings.Contains(msg, "server preface"):
		return "does the controller require TLS? Give --tls-ca, --tls-cert and --tls-key"
	case c.tls && !strings.Contains(msg, "connection refused") && !strings.Contains(msg, "no such file"):
		return "is it running, did --tls-ca sign its certificate, and did its --tls-client-ca sign --tls-cert?"
	}
	return ""
}

// remoteError is an error the controller returned. It prints as the
// controller's message alone, which already names the object, field and
// value, and keeps the gRPC status for status.FromError.
type remoteError struct{ st *status.Status }

func (e *remoteError) Error() string              { return e.st.Message() }
func (e *remoteError) GRPCStatus() *status.Status { return e.st }

// explain turns a call's error into one an operator can act on.
func (c *adminClient) explain(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unavailable:
		if hint := c.tlsHint(st.Message()); hint != "" {
			return fmt.Errorf("cannot reach the controller at %s (from %s): %s; %s", c.server.addr, c.server.from, st.Message(), hint)
		}
		hint := ""
		if c.server.from == "default" {
			hint = fmt.Sprintf(" (or set --server, $%s or server: in the config file)", envServer)
		}
		return fmt.Errorf("cannot reach the controller at %s (from %s): %s; is it running?%s", c.server.addr, c.server.from, st.Message(), hint)
	case codes.DeadlineExceeded:
		return fmt.Errorf("the controller at %s did not answer within %s: %w", c.server.addr, callTimeout, &remoteError{st})
	case codes.Canceled:
		return context.Canceled
	case codes.ResourceExhausted:
		if strings.Contains(st.Message(), "message larger than max") {
			return fmt.Errorf("%w: over gRPC's message limit of the controller at %s; for an apply, %s", &remoteError{st}, c.server.addr, splitHint)
		}
	}
	return &remoteError{st}
}
