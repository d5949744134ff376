package authn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
)

// refusalLogEvery is how often a refused handshake from one remote IP is
// logged, per reason: a client retrying every second must not flood the log.
const refusalLogEvery = time.Minute

// HandshakeRefusal names why a TLS handshake failed: Reason is a short
// label for metrics, Why a sentence for the log.
type HandshakeRefusal struct{ Reason, Why string }

// ClassifyServerHandshake says why the server side of a TLS handshake
// failed, from the client's point of view.
func ClassifyServerHandshake(err error) HandshakeRefusal {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not look like a TLS handshake"):
		return HandshakeRefusal{"plaintext", "the client speaks plain text; it needs --tls-ca, --tls-cert and --tls-key"}
	case strings.Contains(msg, "didn't provide a certificate"), strings.Contains(msg, "certificate required"):
		return HandshakeRefusal{"no_certificate", "the client presented no certificate signed by --tls-client-ca (none, or one from another CA, which Go clients do not send)"}
	case strings.Contains(msg, "unknown authority"):
		return HandshakeRefusal{"unknown_ca", "the client's certificate is not signed by --tls-client-ca"}
	case strings.Contains(msg, "expired or is not yet valid"):
		return HandshakeRefusal{"expired", "the client's certificate has expired or is not yet valid"}
	case strings.Contains(msg, "remote error: tls:"):
		return HandshakeRefusal{"client_refused", "the client refused our certificate (" + msg + "); does its --tls-ca sign our --tls-cert?"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return HandshakeRefusal{"closed", "the client closed the connection during the handshake"}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return HandshakeRefusal{"timeout", "the client did not finish the handshake in time"}
	}
	return HandshakeRefusal{"other", msg}
}

// refusalLog logs refused handshakes, at most one line per remote IP and
// reason per refusalLogEvery, and counts every one.
type refusalLog struct {
	log       *slog.Logger
	onRefused func(reason string)
	now       func() time.Time

	mu sync.Mutex // guards last
	// last is when each remote IP and reason was last logged.
	last map[string]time.Time
}

func (r *refusalLog) refused(remote net.Addr, err error) {
	c := ClassifyServerHandshake(err)
	if r.onRefused != nil {
		r.onRefused(c.Reason)
	}
	if r.log == nil {
		return
	}
	addr := "unknown"
	if remote != nil {
		addr = remote.String()
	}
	ip := addr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		ip = host
	}
	if !r.due(ip + " " + c.Reason) {
		return
	}
	r.log.Warn("TLS handshake refused", "remote", addr, "reason", c.Reason, "why", c.Why, "error", err.Error())
}

// due reports whether key (remote IP and reason) may be logged now, and records it if so.
func (r *refusalLog) due(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if t, ok := r.last[key]; ok && now.Sub(t) < refusalLogEvery {
		return false
	}
	if len(r.last) >= 4096 { // forget the quiet ones
		for k, t := range r.last {
			if now.Sub(t) >= refusalLogEvery {
				delete(r.last, k)
			}
		}
	}
	r.last[key] = now
	return true
}

// refusalCreds are server credentials that report failed handshakes.
type refusalCreds struct {
	credentials.TransportCredentials
	r *refusalLog
}

func (c refusalCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		c.r.refused(raw.RemoteAddr(), err)
	}
	return conn, info, err
}

func (c refusalCreds) Clone() credentials.TransportCredentials {
	return refusalCreds{TransportCredentials: c.TransportCredentials.Clone(), r: c.r}
}
