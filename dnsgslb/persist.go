package dnsgslb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

const snapshotFile = "gslb-snapshot.pb"

// saveSnapshot writes the snapshot to the state directory atomically: a
// temporary file, synced, renamed over the old one.
func saveSnapshot(dir string, snap *v1.GslbSnapshot) error {
	b, err := proto.Marshal(snap)
	if err != nil {
		return fmt.Errorf("marshal snapshot revision %d: %w", snap.GetRevision(), err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state dir %q: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+snapshotFile+".*")
	if err != nil {
		return fmt.Errorf("state dir %q: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %q: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %q: %w", tmp, err)
	}
	path := filepath.Join(dir, snapshotFile)
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %q to %q: %w", tmp, path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// loadSnapshot reads the persisted snapshot; nil and no error when there is
// none.
func loadSnapshot(dir string) (*v1.GslbSnapshot, error) {
	path := filepath.Join(dir, snapshotFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %q: %w", path, err)
	}
	snap := &v1.GslbSnapshot{}
	if err := proto.Unmarshal(b, snap); err != nil {
		return nil, fmt.Errorf("decode snapshot %q: %w", path, err)
	}
	return snap, nil
}
