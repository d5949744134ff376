package agent

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestSessionSaysWhyTheControllerRefusedIt: a controller that refuses the
// stream ends it before reading the hello, so sending the hello fails with
// io.EOF; the session reports the refusal instead, which gRPC gives only to
// Recv. The stream interceptor waits for the controller's answer before the
// hello goes out, as a slow agent would, so that Send always finds the
// stream ended.
func TestSessionSaysWhyTheControllerRefusedIt(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	ctl := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
	})
	viewer := ca.ClientTLS(t, "tokyo", authn.RoleViewer) // New refuses it; the controller too
	s := &session{
		controllers: controlconn.NewRotation([]string{ctl.Addr}),
		pop:         "tokyo",
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		tls:         func() *tls.Config { return viewer },
		dialOpts:    []grpc.DialOption{grpc.WithStreamInterceptor(answerFirst)},
		revision:    new(atomic.Int64),
		configs:     make(chan *v1.PopConfig, 1),
		connected:   make(chan bool, 1),
		reports:     make(chan *v1.PopStatus, 1),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := s.once(ctx, backoff.New(time.Millisecond, time.Millisecond), controlconn.Target{Addr: ctl.Addr})
	st := status.Convert(err)
	want := `/anycast.v1.AgentService/Connect: caller "tokyo" has role viewer; this method needs role admin or agent`
	if st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), want) {
		t.Fatalf("the session ended with %v %q; want PermissionDenied containing %q", st.Code(), st.Message(), want)
	}
}

// answerFirst opens the stream and waits for the server's headers, or
// for the stream to end, before handing it over.
func answerFirst(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	cs.Header()
	return cs, nil
}
