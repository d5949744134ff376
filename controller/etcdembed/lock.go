package etcdembed

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// LockFile is the file in the data directory that the member holding the
// directory keeps locked, with its process ID in it. etcd's own locks on
// the WAL and the database block a second member without a word; this one
// is taken first and refuses it at once.
const LockFile = "anyctl.lock"

// dirLock is a held data directory lock. A start given up on (its context
// ended, its time ran out) leaves etcd stopping in the background; the lock
// stays held until it has, so that no other member opens the directory
// under it.
type dirLock struct {
	f        *os.File
	mu       sync.Mutex // guards pending, released
	pending  int        // starts still running in the background
	released bool
}

// hold marks a start as running; done as finished. Both accept nil.
func (l *dirLock) hold() {
	if l != nil {
		l.mu.Lock()
		l.pending++
		l.mu.Unlock()
	}
}

func (l *dirLock) done() {
	if l != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.pending--
		l.closeLocked()
	}
}

// release gives the lock up, at once unless a start is still running.
func (l *dirLock) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.released = true
	l.closeLocked()
}

// closeLocked closes the lock file once released and no start runs. The
// caller holds mu.
func (l *dirLock) closeLocked() {
	if l.released && l.pending == 0 && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// lockDir takes the data directory's lock, or says which process holds it.
// The lock lasts until it is released (or the process exits).
func lockDir(dir string) (*dirLock, error) {
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
	return &dirLock{f: f}, nil
}
