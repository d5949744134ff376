// Package store is the controller's one home in etcd: every key it uses
// (keys.go), and every read, write, lease, watch and election behind them.
// Nothing else in the controller speaks to etcd.
//
// The desired state is one key per object under
// /anyctl/v1/desired/<plural>/<name>, holding the deterministic protobuf
// encoding of the v1.Object without its versions. On every read the
// object's metadata.resourceVersion is set to the key's mod revision and
// createRevision to its create revision. Every write of desired state also
// writes the guard key /anyctl/v1/meta/desired-rev, and commits only if the
// guard has not moved since the read it was validated against: writes
// serialise optimistically, and validation of the whole state is free of
// races. A write that loses the race reads, validates and checks its
// preconditions again. One apply is one etcd transaction with one
// operation per created or updated object plus the guard; an external
// cluster needs --max-txn-ops and --max-request-bytes raised to match the
// largest apply, and a transaction over the limits fails with an error
// wrapping ErrTooLarge.
//
// Every desired-state write also puts a history record (history.go) in
// its transaction: who, when, and each object before and after. Rollback
// rebuilds an earlier state from those records, which etcd's compaction
// does not touch; Backup and Restore carry the desired state with its
// versions, the fleet state and the history to and from another cluster.
//
// Beside it: the PoPs' reports (StatusSession) and each PoP's live-agent
// claim (ClaimAgent), all under one lease per controller replica
// (ReplicaLease), each PoP's last refused agent, the fleet
// state (drain records, the withdrawal budget's holds, the drain guard),
// and the leader election, whose Term guards the leader's writes.
//
// A reader keeps a key space current by listing at a revision and watching
// from the next one; Mirror does that for the desired state, the reports
// and the fleet state, and Watch streams the desired state's changes.
// etcd compacts old revisions (the embedded server keeps an hour); a watch
// that starts before the compacted revision ends with an error wrapping
// ErrCompacted, and the reader lists again.
package store

import (
	"context"
	"crypto/tls"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Store reads and writes desired state. It is safe for concurrent use.
type Store struct {
	cli *clientv3.Client
	log *slog.Logger

	// batch writes the reports of every StatusSession (statusbatch.go),
	// started once by statusBatch.
	batchOnce sync.Once
	batch     *statusBatcher
	// own are the reports its status sessions wrote, for StatusMirror.
	own ownReports
}

// New returns a store over the client. A nil logger means slog.Default().
func New(cli *clientv3.Client, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.Default()
	}
	return &Store{cli: cli, log: logger}
}

// DialConfig is how to reach an external etcd cluster.
type DialConfig struct {
	Endpoints []string
	// TLS is the client's TLS config; nil dials plain text.
	TLS *tls.Config
	// TLSCredentials, when set, make the handshakes in place of TLS's:
	// ones that read the certificate files again when they change. They
	// are used only when every endpoint speaks TLS: the client sends
	// http:// endpoints plain text, TLS config or not.
	TLSCredentials credentials.TransportCredentials
	// Username and Password authenticate to a cluster with auth enabled;
	// empty for none.
	Username, Password string
	// MaxCallSendMsgSize bounds a request the client sends: a large apply
	// is one transaction.
	MaxCallSendMsgSize int
}

// Dial connects to an external etcd cluster and returns a store over it;
// Close closes the connection. ctx bounds the client's lifetime.
func Dial(ctx context.Context, cfg DialConfig, logger *slog.Logger) (*Store, error) {
	var dialOpts []grpc.DialOption
	if cfg.TLSCredentials != nil && !slices.ContainsFunc(cfg.Endpoints, func(ep string) bool { return !EndpointTLS(ep, true) }) {
		// The client's options come after its own credentials: these win.
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(cfg.TLSCredentials))
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:          cfg.Endpoints,
		DialTimeout:        5 * time.Second,
		TLS:                cfg.TLS,
		Username:           cfg.Username,
		Password:           cfg.Password,
		Context:            ctx,
		MaxCallSendMsgSize: cfg.MaxCallSendMsgSize,
		DialOptions:        dialOpts,
	})
	if err != nil {
		return nil, err
	}
	return New(cli, logger), nil
}

// Close closes the store's etcd client.
func (s *Store) Close() error { return s.cli.Close() }

// EndpointTLS reports whether the etcd client speaks TLS to ep, as the
// client decides: always to https:// and unixs://, never to http://, and
// to any other endpoint (unix:, none) when it has a TLS config.
func EndpointTLS(ep string, withTLS bool) bool {
	var scheme string
	switch {
	case strings.HasPrefix(ep, "unixs:"):
		scheme = "unixs"
	case strings.HasPrefix(ep, "unix:"):
		scheme = "unix"
	case strings.Contains(ep, "://"):
		scheme, _, _ = strings.Cut(strings.ToLower(ep), "://")
	}
	switch scheme {
	case "https", "unixs":
		return true
	case "http":
		return false
	}
	return withTLS
}
