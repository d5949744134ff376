package controller

import (
	"context"
	"errors"

	"github.com/anyctl/anyctl/controller/store"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// toStatus maps domain errors onto gRPC codes, keeping their messages: the
// messages already name the object, field and value.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var verr validation.Errors
	var ferr *validation.FieldError
	var conflict *store.ConflictError
	var notFound *store.NotFoundError
	var bad *store.RequestError
	var notEmpty *store.NotEmptyError
	switch {
	case errors.As(err, &notEmpty):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.As(err, &bad):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.As(err, &verr), errors.As(err, &ferr):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.As(err, &conflict):
		return status.Error(codes.Aborted, err.Error())
	case errors.As(err, &notFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrHistoryTooShort):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, store.ErrContention):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, store.ErrCompacted):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, store.ErrTooLarge), errors.Is(err, store.ErrNoSpace):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, store.ErrQuorumLost):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}
