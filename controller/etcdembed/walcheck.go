package etcdembed

import (
	"encoding/binary"
	"fmt"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/server/v3/storage/schema"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.uber.org/zap"
)

// appliedIndex is the last raft entry the backend database db has applied
// (etcd's consistent index); 0 when it records none.
func appliedIndex(db *bolt.DB) uint64 {
	var idx uint64
	_ = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(schema.Meta.Name()); b != nil {
			if v := b.Get(schema.MetaConsistentIndexKeyName); len(v) == 8 {
				idx = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return idx
}

// checkWALReachesDB refuses a WAL that ends before the entries the
// database has applied: its tail was cut off (a truncated or damaged
// file), and etcd, waiting to replay entries it no longer has, would sit
// unready for minutes. A WAL etcd can read for itself, or one this check
// cannot read, is left to etcd.
func checkWALReachesDB(dir string, applied uint64) error {
	walDir := filepath.Join(dir, "member", "wal")
	lg := zap.NewNop()
	snaps, err := wal.ValidSnapshotEntries(lg, walDir)
	if err != nil || applied == 0 {
		return nil
	}
	snap := &walpb.Snapshot{}
	if len(snaps) > 0 {
		snap = snaps[len(snaps)-1]
	}
	w, err := wal.OpenForRead(lg, walDir, snap)
	if err != nil {
		return nil
	}
	defer w.Close()
	_, _, ents, err := w.ReadAll()
	if err != nil {
		return nil
	}
	last := snap.GetIndex()
	if len(ents) > 0 {
		last = ents[len(ents)-1].GetIndex()
	}
	if last >= applied {
		return nil
	}
	wals, _ := filepath.Glob(filepath.Join(walDir, "*.wal"))
	file := walDir
	if len(wals) > 0 {
		file = wals[len(wals)-1]
	}
	return fmt.Errorf("WAL file %q is truncated or damaged: the WAL ends at entry %d but the database %q has applied entries up to %d, so entries are lost and etcd would wait for them: %s",
		file, last, filepath.Join(dir, "member", "snap", "db"), applied, restoreAdvice)
}
