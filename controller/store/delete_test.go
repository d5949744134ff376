package store

import (
	"errors"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

func TestDelete(t *testing.T) {
	errInUse := errors.New("in use")
	var conflict *ConflictError
	var notFound *NotFoundError
	tests := []struct {
		name    string
		ref     resource.Ref
		version func(stored int64) int64
		check   DeleteCheck
		wantErr func(error) bool
	}{
		{name: "no precondition", ref: refOf(v1.Kind_KIND_ORIGIN, "frankfurt"), version: func(int64) int64 { return 0 }},
		{name: "current version", ref: refOf(v1.Kind_KIND_ORIGIN, "frankfurt"), version: func(rv int64) int64 { return rv }},
		{
			name: "stale version", ref: refOf(v1.Kind_KIND_ORIGIN, "frankfurt"), version: func(rv int64) int64 { return rv - 1 },
			wantErr: func(err error) bool { return errors.As(err, &conflict) && conflict.Op == "delete" },
		},
		{
			name: "missing object", ref: refOf(v1.Kind_KIND_ORIGIN, "paris"), version: func(int64) int64 { return 0 },
			wantErr: func(err error) bool {
				return errors.As(err, &notFound) && err.Error() == `Origin "paris" not found`
			},
		},
		{
			name: "same name, other kind", ref: refOf(v1.Kind_KIND_POP, "frankfurt"), version: func(int64) int64 { return 0 },
			wantErr: func(err error) bool { return errors.As(err, &notFound) },
		},
		{
			name: "check refuses", ref: refOf(v1.Kind_KIND_ORIGIN, "frankfurt"), version: func(int64) int64 { return 0 },
			check: func(ref resource.Ref, existing *resource.State) error {
				if existing.Get(ref) == nil {
					return errors.New("check did not see the object")
				}
				return errInUse
			},
			wantErr: func(err error) bool { return err == errInUse },
		},
		{
			name: "bad name", ref: refOf(v1.Kind_KIND_ORIGIN, ""), version: func(int64) int64 { return 0 },
			wantErr: func(err error) bool { return err != nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, cli := newStore(t)
			base := mustApply(t, s, origin("frankfurt", 10))
			before := dump(t, cli)
			rev, err := s.Delete(testContext(t), tt.ref, tt.version(base.GetRevision()), tt.check)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("delete = %d, %v; want the error", rev, err)
				}
				if after := dump(t, cli); after != before {
					t.Errorf("failed delete changed etcd:\nbefore %s\nafter %s", before, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			if rev <= base.GetRevision() {
				t.Errorf("delete revision %d, want after %d", rev, base.GetRevision())
			}
			if _, err := s.Get(testContext(t), tt.ref); !errors.As(err, &notFound) {
				t.Errorf("get after delete: %v, want not found", err)
			}
		})
	}
}
