package controller

import (
	"context"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// History pages: the default and the most entries one answer holds.
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 10000
)

func (a *adminServer) History(ctx context.Context, req *v1.HistoryRequest) (*v1.HistoryResponse, error) {
	if req.GetName() != "" && req.GetKind() == v1.Kind_KIND_UNSPECIFIED {
		return nil, status.Errorf(codes.InvalidArgument, "history: name %s given without a kind", resource.Quote(req.GetName()))
	}
	if req.GetLimit() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "history: limit %d: must not be negative (0 for the default of %d)", req.GetLimit(), defaultHistoryLimit)
	}
	limit := int(req.GetLimit())
	if limit == 0 {
		limit = defaultHistoryLimit
	}
	entries, floor, err := a.st.History(ctx, store.HistoryFilter{Kind: req.GetKind(), Name: req.GetName()}, min(limit, maxHistoryLimit))
	if err != nil {
		return nil, toStatus(err)
	}
	return &v1.HistoryResponse{Entries: entries, Floor: floor}, nil
}

func (a *adminServer) Rollback(ctx context.Context, req *v1.RollbackRequest) (*v1.RollbackResponse, error) {
	var one *resource.Ref
	switch {
	case req.GetKind() != v1.Kind_KIND_UNSPECIFIED && req.GetName() != "":
		one = &resource.Ref{Kind: req.GetKind(), Name: req.GetName()}
	case req.GetKind() != v1.Kind_KIND_UNSPECIFIED || req.GetName() != "":
		return nil, status.Error(codes.InvalidArgument, "rollback: give both kind and name to roll back one object, or neither for all")
	}
	resp, err := a.st.Rollback(withAuthor(ctx), req.GetToRevision(), one, req.GetDryRun(), a.checkChange)
	a.metrics.applies.WithLabelValues(resultLabel(err)).Inc()
	if err != nil {
		return nil, toStatus(err)
	}
	a.awaitOwnWrite(ctx, "rollback", resp.GetRevision(), a.cache.WaitRevision)
	return &v1.RollbackResponse{Results: resp.GetResults(), Revision: resp.GetRevision()}, nil
}
