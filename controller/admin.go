package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxApplyObjects bounds one apply; larger sets should be split.
const maxApplyObjects = 10000

// adminServer implements the Admin API over the store.
type adminServer struct {
	v1.UnimplementedAdminServiceServer
	st       *store.Store
	opts     validation.Options
	metrics  *metrics
	cache    *stateCache
	observed *observer
	fleet    *fleetState
	reports  *statusWatcher
	// drainPeriod is the default GRACEFUL_SHUTDOWN phase of a drain.
	drainPeriod time.Duration
}

func (a *adminServer) Apply(ctx context.Context, req *v1.ApplyRequest) (*v1.ApplyResponse, error) {
	if len(req.GetObjects()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "apply: no objects given")
	}
	if n := len(req.GetObjects()); n > maxApplyObjects {
		return nil, status.Errorf(codes.InvalidArgument, "apply: %d objects in one request; at most %d", n, maxApplyObjects)
	}
	check := func(incoming []*v1.Object, existing *resource.State) error {
		return validation.CheckApply(incoming, existing, a.opts)
	}
	resp, err := a.st.Apply(ctx, req.GetObjects(), req.GetDryRun(), check)
	a.metrics.applies.WithLabelValues(resultLabel(err)).Inc()
	if err != nil {
		return nil, toStatus(err)
	}
	// Read-your-writes: once Apply returns, every API of this replica
	// (agent configs, the GSLB feed, status) works from the new state.
	if err := a.cache.WaitRevision(ctx, resp.GetRevision()); err != nil {
		return nil, toStatus(err)
	}
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

func (a *adminServer) List(ctx context.Context, req *v1.ListRequest) (*v1.ListResponse, error) {
	objs, rev, err := a.st.List(ctx, req.GetKind())
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.ListResponse{Objects: objs, Revision: rev}, nil
}

func (a *adminServer) Delete(ctx context.Context, req *v1.DeleteRequest) (*v1.DeleteResponse, error) {
	if err := requireKindName(req.GetKind(), req.GetName()); err != nil {
		return nil, err
	}
	rev, err := a.st.Delete(ctx, resource.Ref{Kind: req.GetKind(), Name: req.GetName()}, req.GetResourceVersion(), validation.CheckDelete)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := a.cache.WaitRevision(ctx, rev); err != nil {
		return nil, toStatus(err)
	}
	return &v1.DeleteResponse{Revision: rev}, nil
}

func (a *adminServer) Watch(req *v1.WatchRequest, stream v1.AdminService_WatchServer) error {
	for ev := range a.st.Watch(stream.Context(), req.GetKind(), req.GetStartRevision()) {
		if ev.Err != nil {
			return toStatus(ev.Err)
		}
		if err := stream.Send(&v1.WatchResponse{Type: ev.Type, Object: ev.Object, Revision: ev.Revision}); err != nil {
			return err
		}
	}
	return nil
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
