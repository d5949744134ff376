package etcdembed

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	// walSegmentBytes is the size etcd preallocates for each WAL segment.
	walSegmentBytes = 64 << 20
	// restoreAdvice is what to do with a data dir etcd cannot start from.
	restoreAdvice = "the data dir is damaged: restore it from a backup, or move it aside to start with an empty store"
)

// precheck refuses, before etcd sees them, the data dirs etcd would panic
// on or hang with: too little room for its WAL, an empty WAL file, a
// backend database that is not one, a WAL that lost entries the database
// has applied.
func precheck(dir string) error {
	walDir := filepath.Join(dir, "member", "wal")
	need := uint64(2 * walSegmentBytes) // a new member creates two segments
	if _, err := os.Stat(walDir); err == nil {
		need = walSegmentBytes // the next cut preallocates one
	}
	if free, err := freeSpace(dir); err == nil && free < need {
		return fmt.Errorf("data dir %q: %d MB free on its file system, etcd needs %d MB for its WAL: free space there, or choose a data dir on a larger file system", dir, free>>20, need>>20)
	}
	wals, _ := filepath.Glob(filepath.Join(walDir, "*.wal"))
	for _, w := range wals {
		if fi, err := os.Stat(w); err == nil && fi.Size() == 0 {
			return fmt.Errorf("WAL file %q is empty (0 bytes): %s", w, restoreAdvice)
		}
	}
	db := filepath.Join(dir, "member", "snap", "db")
	if _, err := os.Stat(db); err == nil {
		b, err := bolt.Open(db, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return fmt.Errorf("database %q cannot be opened (%v): %s", db, err, restoreAdvice)
		}
		applied := appliedIndex(b)
		b.Close()
		return checkWALReachesDB(dir, applied)
	}
	return nil
}
