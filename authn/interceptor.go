package authn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// ServerOptions make a gRPC server speak mutual TLS with cfg (from
// ServerConfig) and authorise every call by the caller's role. Refusals are
// logged to log at warning level, as well as returned to the caller; a
// refused TLS handshake is logged with the remote address and why, at most
// once a minute per remote IP and reason, and counted by onRefused (when not nil) with
// a short reason (see ClassifyServerHandshake).
func ServerOptions(cfg *tls.Config, log *slog.Logger, onRefused func(reason string)) []grpc.ServerOption {
	a := &authorizer{log: log}
	r := &refusalLog{log: log, onRefused: onRefused, now: time.Now, last: make(map[string]time.Time)}
	return []grpc.ServerOption{
		grpc.Creds(refusalCreds{TransportCredentials: credentials.NewTLS(cfg), r: r}),
		grpc.ChainUnaryInterceptor(a.unary),
		grpc.ChainStreamInterceptor(a.stream),
	}
}

// authorizer checks each call against methodRoles.
type authorizer struct {
	log *slog.Logger
}

func (a *authorizer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := a.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (a *authorizer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := a.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &identifiedStream{ServerStream: ss, ctx: ctx})
}

// identifiedStream is a server stream whose context carries the caller's
// identity.
type identifiedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identifiedStream) Context() context.Context { return s.ctx }

// authorize returns ctx with the caller's identity when its role may call
// method, else the status error the caller gets.
func (a *authorizer) authorize(ctx context.Context, method string) (context.Context, error) {
	leaf := verifiedLeaf(ctx)
	if leaf == nil {
		return nil, status.Errorf(codes.Unauthenticated, "%s: no verified client certificate", method)
	}
	id, idErr := IdentityOf(leaf)
	if isOpen(method) {
		if idErr == nil {
			ctx = NewContext(ctx, id)
		}
		return ctx, nil
	}
	if idErr != nil {
		a.refused(method, leaf.Subject.CommonName, "", idErr.Error())
		return nil, status.Errorf(codes.PermissionDenied, "%s: %v", method, idErr)
	}
	if !Allowed(method, id.Role) {
		roles := methodRoles[method]
		if len(roles) == 0 {
			a.refused(method, id.Name, id.Role, "method not in the authorisation table")
			return nil, status.Errorf(codes.PermissionDenied, "%s: no role may call this method; caller %q has role %s", method, id.Name, id.Role)
		}
		a.refused(method, id.Name, id.Role, "role not allowed")
		return nil, status.Errorf(codes.PermissionDenied, "%s: caller %q has role %s; this method needs role %s", method, id.Name, id.Role, roleList(roles))
	}
	return NewContext(ctx, id), nil
}

func (a *authorizer) refused(method, caller string, role Role, why string) {
	if a.log != nil {
		a.log.Warn("call refused", "method", method, "caller", caller, "role", string(role), "why", why)
	}
}

// verifiedLeaf is the client certificate the TLS handshake verified, nil
// when there is none.
func verifiedLeaf(ctx context.Context) *x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return info.State.VerifiedChains[0][0]
}
