package controller

import (
	"errors"
	"fmt"
	"io"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// backupChunk is the size of the pieces a backup travels in, well under
// the 4 MiB message limits.
const backupChunk = 1 << 20

// maxRestoreBytes bounds the backup a restore takes in.
const maxRestoreBytes = 1 << 30

func (a *adminServer) Backup(_ *v1.BackupRequest, stream v1.AdminService_BackupServer) error {
	b, err := a.st.Backup(stream.Context())
	if err != nil {
		return toStatus(err)
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		return status.Errorf(codes.Internal, "backup: %v", err)
	}
	for len(data) > 0 {
		n := min(len(data), backupChunk)
		if err := stream.Send(&v1.BackupResponse{Data: data[:n]}); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func (a *adminServer) Restore(stream v1.AdminService_RestoreServer) error {
	var data []byte
	var first *v1.RestoreRequest
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if first == nil {
			first = req
		}
		if len(data)+len(req.GetData()) > maxRestoreBytes {
			return status.Errorf(codes.InvalidArgument, "restore: the backup is over %d bytes, the most a restore takes", maxRestoreBytes)
		}
		data = append(data, req.GetData()...)
	}
	if first == nil || len(data) == 0 {
		return status.Error(codes.InvalidArgument, "restore: no backup sent")
	}
	b := &v1.Backup{}
	if err := proto.Unmarshal(data, b); err != nil {
		return status.Errorf(codes.InvalidArgument, "restore: the backup does not decode: %v", err)
	}
	if err := store.CheckBackup(b, nil); err != nil {
		return toStatus(err)
	}
	if err := validation.CheckApply(b.GetObjects(), resource.NewState(), a.opts); err != nil {
		return toStatus(fmt.Errorf("restore: the backup's objects do not pass validation (is --allowed-prefixes the same as where it was taken?): %w", err))
	}
	res, err := a.st.Restore(withAuthor(stream.Context()), b, first.GetForce(), first.GetDryRun())
	a.metrics.applies.WithLabelValues(resultLabel(err)).Inc()
	if err != nil {
		return toStatus(err)
	}
	// Read-your-writes, as for Apply and Drain.
	a.awaitOwnWrite(stream.Context(), "restore", res.StateRevision, a.cache.WaitRevision)
	a.awaitOwnWrite(stream.Context(), "restore", res.FleetRevision, a.fleet.WaitRevision)
	return stream.SendAndClose(&v1.RestoreResponse{
		Objects: int64(res.Objects), HistoryEntries: int64(res.History), FleetKeys: int64(res.Fleet),
		Renumbered: int64(res.Renumbered), Revision: res.Revision,
	})
}
