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

// snapshotFile holds, in the state directory, the last snapshot served,
// framed (atomicfile.WriteFramed) with snapshotMagic, its length and a
// checksum, so that a damaged file is refused instead of answered from.
const snapshotFile = "gslb-snapshot.pb"

// snapshotMagic starts a framed snapshotFile.
const snapshotMagic = "AGSL"

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
	return atomicfile.WriteFramed(filepath.Join(dir, snapshotFile), snapshotMagic, b)
}

// loadSnapshot reads the persisted snapshot; nil and no error when there is
// none. A file that is empty, truncated, changed or from a version before
// the framing is refused: its error names the file and wraps
// atomicfile.ErrCorrupt.
func loadSnapshot(dir string) (*v1.GslbSnapshot, error) {
	path := filepath.Join(dir, snapshotFile)
	b, err := atomicfile.ReadFramed(path, snapshotMagic)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	snap := &v1.GslbSnapshot{}
	if err := proto.Unmarshal(b, snap); err != nil {
		return nil, fmt.Errorf("decode snapshot %q: %w: %w", path, atomicfile.ErrCorrupt, err)
	}
	return snap, nil
}
