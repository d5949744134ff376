package controller

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/controller/etcdembed"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxApplyObjects bounds one apply: one etcd transaction, which holds at
// most etcdembed.MaxTxnOps operations, two of them the guard's and the
// history record's. Larger
// sets are split into several applies.
const maxApplyObjects = etcdembed.MaxTxnOps - 2

// maxOwnWriteWait bounds how long a write waits for this replica to take
// it in before it answers anyway.
const maxOwnWriteWait = 10 * time.Second

// adminServer implements the Admin API over the store.
type adminServer struct {
	v1.UnimplementedAdminServiceServer
	// dns are the DNS servers streaming this replica's GSLB feed.
	dns      *dnsServers
	log      *slog.Logger
	st       *store.Store
	opts     validation.Options
	metrics  *metrics
	cache    *stateCache
	observed *observer
	fleet    *fleetState
	reports  *statusWatcher
	// drainPeriod is the default GRACEFUL_SHUTDOWN phase of a drain.
	drainPeriod time.Duration
	// watchQueue and watchQueueBytes bound the events one Watch stream may
	// queue for a client that reads slower than they come, and watchGrace
	// is how long a full queue waits for room (0: the defaults).
	watchQueue      int
	watchQueueBytes int64
	watchGrace      time.Duration
	// replica is this replica's own health, for Status; nil in tests that
	// build an adminServer alone.
	replica *replicaState
}

// etcd is how this replica's etcd answers it; nil without a replica.
func (a *adminServer) etcd() *etcdHealth {
	if a.replica == nil {
		return nil
	}
	return a.replica.etcd
}

func (a *adminServer) Apply(ctx context.Context, req *v1.ApplyRequest) (*v1.ApplyResponse, error) {
	if len(req.GetObjects()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "apply: no objects given")
	}
	if n := len(req.GetObjects()); n > maxApplyObjects {
		return nil, status.Errorf(codes.InvalidArgument,
			"apply: %d objects in one request, but one apply is one etcd transaction and takes at most %d objects: split the manifests into files of at most %d objects and apply them one at a time (each apply is all or nothing by itself)",
			n, maxApplyObjects, maxApplyObjects)
	}
	if err := checkWritable(ctx, a.st, a.etcd(), "apply"); err != nil {
		return nil, err
	}
	// Checked against this replica's cache, not a fresh read of the whole
	// state; the store redoes it from a read if the cache was behind.
	base, _ := a.cache.Current()
	resp, err := a.st.Change(withAuthor(ctx), base, store.ChangeRequest{
		Objects: req.GetObjects(), PruneKinds: req.GetPruneKinds(), DryRun: req.GetDryRun(), Check: a.checkChange,
	})
	a.metrics.applies.WithLabelValues(resultLabel(err)).Inc()
	if err != nil {
		return nil, toStatus(err)
	}
	// Read-your-writes: once Apply returns, every API of this replica
	// (agent configs, the GSLB feed, status) works from the new state.
	a.awaitOwnWrite(ctx, "apply", resp.GetRevision(), a.cache.WaitRevision)
	resp.Warnings = validation.Warnings(req.GetObjects(), base)
	return resp, nil
}

func (a *adminServer) Get(ctx context.Context, req *v1.GetRequest) (*v1.GetResponse, error) {
	if err := requireKindName(req.GetKind(), req.GetName()); err != nil {
		return nil, err
	}
	obj, err := a.st.Get(ctx, resource.Ref{Kind: req.GetKind(), Name: req.GetName()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.GetResponse{Object: obj}, nil
}

// List page sizes: the default and the most one page holds, in objects
// and, so that a page always fits the client's 4 MiB message limit, in
// bytes (a page ends with the object that reaches it; one object is at
// most a 1 MiB document).
const (
	defaultListPage  = 1000
	maxListPage      = 10000
	maxListPageBytes = 2 << 20
)

func (a *adminServer) List(ctx context.Context, req *v1.ListRequest) (*v1.ListResponse, error) {
	if req.GetPageSize() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "list: page_size %d: must not be negative (0 for the default of %d)", req.GetPageSize(), defaultListPage)
	}
	from, err := store.ParseCursor(req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = defaultListPage
	}
	lim := store.PageLimits{Objects: min(size, maxListPage), Bytes: maxListPageBytes}
	objs, rev, next, err := a.st.ListPage(ctx, req.GetKind(), from, lim)
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.ListResponse{Objects: objs, Revision: rev, NextPageToken: next.String()}, nil
}

func (a *adminServer) Delete(ctx context.Context, req *v1.DeleteRequest) (*v1.DeleteResponse, error) {
	if err := requireKindName(req.GetKind(), req.GetName()); err != nil {
		return nil, err
	}
	if err := checkWritable(ctx, a.st, a.etcd(), "delete"); err != nil {
		return nil, err
	}
	rev, err := a.st.Delete(withAuthor(ctx), resource.Ref{Kind: req.GetKind(), Name: req.GetName()}, req.GetResourceVersion(), validation.CheckDelete)
	if err != nil {
		return nil, toStatus(err)
	}
	a.awaitOwnWrite(ctx, "delete", rev, a.cache.WaitRevision)
	return &v1.DeleteResponse{Revision: rev}, nil
}

// awaitOwnWrite waits until this replica's view, through wait, holds the
// write committed at rev, so that the caller then reads its own write from
// every API of this replica. The write has happened whatever this replica
// does: when it lags behind for longer than the caller will wait, that is
// logged and the write is answered as committed, not as a deadline
// exceeded that would have the caller believe it failed.
func (a *adminServer) awaitOwnWrite(ctx context.Context, what string, rev int64, wait func(context.Context, int64) error) {
	if rev == 0 {
		return // nothing was written
	}
	patience := maxOwnWriteWait
	if dl, ok := ctx.Deadline(); ok {
		// Leave the caller a tenth of its time to receive the answer.
		patience = min(patience, time.Until(dl)*9/10)
	}
	wctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	if err := wait(wctx, rev); err != nil && ctx.Err() == nil {
		a.log.Warn("write committed, but this replica has not caught up with it: its APIs serve the state before it until they do",
			"write", what, "revision", rev, "waited", patience.Round(time.Millisecond), "err", err)
	}
}

func requireKindName(k v1.Kind, name string) error {
	if k == v1.Kind_KIND_UNSPECIFIED {
		return status.Error(codes.InvalidArgument, "kind is required")
	}
	if name == "" {
		return status.Error(codes.InvalidArgument, fmt.Sprintf("%s: name is required", resource.KindName(k)))
	}
	return nil
}

func resultLabel(err error) string {
	if err == nil {
		return "ok"
	}
	return status.Code(toStatus(err)).String()
}

// checkChange runs every rule a write must pass.
func (a *adminServer) checkChange(puts []*v1.Object, deletes []resource.Ref, existing *resource.State) error {
	return validation.CheckChange(puts, deletes, existing, a.opts)
}

// withAuthor returns ctx carrying the caller, for the history record of
// its write: the certificate's CommonName and role, or "local" without TLS.
func withAuthor(ctx context.Context) context.Context {
	a := store.Author{Actor: "local"}
	if id, ok := authn.FromContext(ctx); ok {
		a.Actor, a.Role = id.Name, string(id.Role)
	}
	return store.WithAuthor(ctx, a)
}
