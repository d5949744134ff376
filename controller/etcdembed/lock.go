package etcdembed

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the file in the data directory that the member holding the
// directory keeps locked, with its process ID in it. etcd's own locks on
// the WAL and the database block a second member without a word; this one
// is taken first and refuses it at once.
const LockFile = "anyctl.lock"

// lockDir takes the data directory's lock, or says which process holds it.
// The lock lasts until the returned file is closed (or the process exits).
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	if held {
		b, _ := os.ReadFile(path)
		f.Close()
		holder := "another process"
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			holder = "process " + strconv.Itoa(pid)
		}
		return nil, fmt.Errorf("data dir %q is in use by %s (lock %s): stop it, or give this one another data directory", dir, holder, path)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
