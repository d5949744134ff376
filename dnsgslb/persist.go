package dnsgslb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/atomicfile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

const snapshotFile = "gslb-snapshot.pb"

// saveSnapshot writes the snapshot to the state directory atomically: a
// crash leaves the old one or the new one.
func saveSnapshot(dir string, snap *v1.GslbSnapshot) error {
	b, err := proto.Marshal(snap)
	if err != nil {
		return fmt.Errorf("marshal snapshot revision %d: %w", snap.GetRevision(), err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state dir %q: %w", dir, err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, snapshotFile), b)
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
