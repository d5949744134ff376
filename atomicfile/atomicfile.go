// Package atomicfile replaces a file's contents in one step, for state that
// a daemon must find whole after a crash: the persisted PoP config, the GSLB
// snapshot, the embedded etcd's ports. WriteFramed and ReadFramed add a
// magic, a version, a length and a checksum, so that a damaged file is
// refused instead of read as other state. It imports only the standard
// library, so that every package may use it.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data, atomically: it writes a
// temporary file in the same directory, syncs it, renames it over path and
// syncs the directory, so that a crash leaves the old contents or the new,
// never a mix. The file's mode is 0600. The directory must exist.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	if _, err := f.Write(data); err != nil {
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
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %q to %q: %w", tmp, path, err)
	}
	SyncDir(dir)
	return nil
}

// SyncDir syncs a directory after a file in it was renamed or created, so
// that the change lasts through a crash. A file system that cannot sync a
// directory keeps the change anyway, later: there is nothing to report.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
