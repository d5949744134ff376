package cli

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// callTimeout bounds each Admin API call, connecting included.
const callTimeout = 30 * time.Second

// adminClient is an Admin API client for one command.
type adminClient struct {
	v1.AdminServiceClient
	conn   *grpc.ClientConn
	server serverChoice
}

// dialAdmin prepares a client for the controller the flags, environment or
// config file name. Nothing connects until the first call.
func dialAdmin(g *globals) (*adminClient, error) {
	server, err := resolveServer(g.server, g.configFile, osClientEnv())
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(server.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("controller address %q (from %s): %w", server.addr, server.from, err)
	}
	return &adminClient{AdminServiceClient: v1.NewAdminServiceClient(conn), conn: conn, server: server}, nil
}

func (c *adminClient) Close() error { return c.conn.Close() }

// callContext bounds one call.
func callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
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
		hint := ""
		if c.server.from == "default" {
			hint = fmt.Sprintf(" (or set --server, $%s or server: in the config file)", envServer)
		}
		return fmt.Errorf("cannot reach the controller at %s (from %s): %s; is it running?%s", c.server.addr, c.server.from, st.Message(), hint)
	case codes.DeadlineExceeded:
		return fmt.Errorf("the controller at %s did not answer within %s: %w", c.server.addr, callTimeout, &remoteError{st})
	case codes.Canceled:
		return context.Canceled
	}
	return &remoteError{st}
}
