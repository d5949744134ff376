package store

import (
	"context"
	"fmt"
)

// DBStatus is an etcd member's database as the member reports it.
type DBStatus struct {
	// Revision is the store's current revision.
	Revision int64
	// Size is the database file's size; InUse the part holding data (the
	// rest is free pages that defragmentation gives back).
	Size, InUse int64
}

// DBStatus reports the database of the member at the client's first
// endpoint.
func (s *Store) DBStatus(ctx context.Context) (DBStatus, error) {
	eps := s.cli.Endpoints()
	if len(eps) == 0 {
		return DBStatus{}, fmt.Errorf("etcd status: the client has no endpoint")
	}
	st, err := s.cli.Status(ctx, eps[0])
	if err != nil {
		return DBStatus{}, fmt.Errorf("etcd status of %s: %w", eps[0], err)
	}
	return DBStatus{Revision: st.Header.Revision, Size: st.DbSize, InUse: st.DbSizeInUse}, nil
}
