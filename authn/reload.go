package authn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"
)

// checkInterval is how often, at most, a Reloader looks at its files'
// identities (device and inode, size, modification time): on a handshake,
// a scrape, or Watch's tick.
const checkInterval = time.Second

// settle is how long a changed set of files that does not load is given to
// become whole (a renewer writes the certificate, then the key) before it
// is logged and counted as failing. A set that loads is taken at once.
const settle = 2 * time.Second

// errChanging is a load during which a file changed.
var errChanging = errors.New("a file changed while it was read")

// Reloader holds one end's TLS files as last read and reads them again
// when they change: new handshakes get the new certificate and CA, open
// connections keep theirs. Files that changed but do not load leave the
// last good ones in use; the failure is logged once per change and shows
// in the metrics (Collector).
type Reloader struct {
	files Files
	log   *slog.Logger
	now   func() time.Time

	// cur is the set of files in use.
	cur atomic.Pointer[snapshot]
	// lastCheck is when the files were last looked at, in Unix
	// nanoseconds; it spares handshakes the lock between checks.
	lastCheck atomic.Int64

	mu sync.Mutex // guards the fields below
	// bad is the changed set of files that does not load, and firstBad
	// when it was first seen.
	bad      fileSet
	firstBad time.Time
	// failing is set once bad has been failing for settle: logged, and
	// counted by the metrics.
	failing bool
	// reloads and failures count the sets of files taken and refused.
	reloads, failures int
	// require, when set, is a condition a renewed certificate must meet.
	require func(*x509.Certificate) error
}

// snapshot is one reading of the files.
type snapshot struct {
	// pool is the CA's certificates; nil without a CA file.
	pool *x509.CertPool
	// cert is the key pair, its Leaf parsed; nil without a certificate.
	cert *tls.Certificate
	// files are the files' identities when they were read.
	files fileSet
}

// NewReloader reads f (all files that are set) and returns a Reloader
// over them; an error names the file and why it does not load. log (nil
// for slog.Default()) gets reloads and failures.
func NewReloader(f Files, log *slog.Logger) (*Reloader, error) {
	if log == nil {
		log = slog.Default()
	}
	if f.Cert == "" && f.CA == "" {
		return nil, fmt.Errorf("%s and %s: no TLS files given", f.Names.CA, f.Names.Cert)
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, fmt.Errorf("%s %q and %s %q: give both or neither", f.Names.Cert, f.Cert, f.Names.Key, f.Key)
	}
	r := &Reloader{files: f, log: log, now: time.Now}
	s, err := r.read()
	if err != nil {
		return nil, err
	}
	r.cur.Store(s)
	r.lastCheck.Store(r.now().UnixNano())
	return r, nil
}

// Watch checks the files every checkInterval until ctx ends, so that a
// change is taken, or a failure logged, without waiting for a handshake.
func (r *Reloader) Watch(ctx context.Context) {
	t := time.NewTicker(checkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.check()
		}
	}
}

// Leaf is the certificate in use; nil without one.
func (r *Reloader) Leaf() *x509.Certificate {
	if c := r.current().cert; c != nil {
		return c.Leaf
	}
	return nil
}

// current is the snapshot in use, checking the files first when the last
// check is older than checkInterval.
func (r *Reloader) current() *snapshot {
	if time.Duration(r.now().UnixNano()-r.lastCheck.Load()) >= checkInterval && r.mu.TryLock() {
		r.checkLocked()
		r.mu.Unlock()
	}
	return r.cur.Load()
}

// check looks at the files now.
func (r *Reloader) check() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkLocked()
}

func (r *Reloader) checkLocked() {
	now := r.now()
	r.lastCheck.Store(now.UnixNano())
	cur := r.cur.Load()
	files := statFiles(r.files.paths())
	if files.same(cur.files) {
		r.bad, r.failing = nil, false
		return
	}
	s, err := r.read()
	if err == nil {
		r.takeLocked(cur, s)
		return
	}
	if errors.Is(err, errChanging) {
		return // read again at the next check
	}
	if r.bad == nil || !files.same(r.bad) {
		r.bad, r.firstBad, r.failing = files, now, false
	}
	if !r.failing && now.Sub(r.firstBad) >= settle {
		r.failing = true
		r.failures++
		args := []any{"file", r.name(), "err", err}
		if c := cur.cert; c != nil {
			args = append(args, "serial", serialText(c.Leaf.SerialNumber), "not_after", c.Leaf.NotAfter.UTC())
		}
		r.log.Error("TLS files changed but do not load; keeping the ones in use", args...)
	}
}

// takeLocked puts s in use in place of old, and says so.
func (r *Reloader) takeLocked(old, s *snapshot) {
	r.cur.Store(s)
	r.bad, r.failing = nil, false
	r.reloads++
	args := []any{"file", r.name()}
	if s.cert != nil {
		args = append(args, "serial", serialText(s.cert.Leaf.SerialNumber), "not_after", s.cert.Leaf.NotAfter.UTC())
		if old.cert != nil && old.cert.Leaf.SerialNumber.Cmp(s.cert.Leaf.SerialNumber) != 0 {
			args = append(args, "previous_serial", serialText(old.cert.Leaf.SerialNumber))
		}
	}
	r.log.Info("TLS files reloaded; new handshakes use them", args...)
}

// read loads the files, and refuses a load during which one of them
// changed: a certificate read while its key was being rewritten.
func (r *Reloader) read() (*snapshot, error) {
	paths := r.files.paths()
	before := statFiles(paths)
	s := &snapshot{files: before}
	if r.files.CA != "" {
		pool, err := loadPool(r.files.Names.CA, r.files.CA)
		if err != nil {
			return nil, err
		}
		s.pool = pool
	}
	if r.files.Cert != "" {
		cert, err := loadPair(r.files)
		if err != nil {
			return nil, err
		}
		s.cert = &cert
		if r.require != nil {
			if err := r.require(cert.Leaf); err != nil {
				return nil, err
			}
		}
	}
	if !statFiles(paths).same(before) {
		return nil, errChanging
	}
	return s, nil
}

// name is the file that names the set in logs and metrics: the
// certificate, or the CA without one.
func (r *Reloader) name() string {
	if r.files.Cert != "" {
		return r.files.Cert
	}
	return r.files.CA
}

// paths are the files that are set, in the order CA, certificate, key.
func (f Files) paths() []string {
	var ps []string
	for _, p := range []string{f.CA, f.Cert, f.Key} {
		if p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

func serialText(n *big.Int) string { return n.Text(16) }

// Require makes check a condition of the certificate: the one in use must
// pass it (its error is returned), and a renewed one that fails it is
// refused like one that does not load.
func (r *Reloader) Require(check func(*x509.Certificate) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.cur.Load().cert; c != nil {
		if err := check(c.Leaf); err != nil {
			return err
		}
	}
	r.require = check
	return nil
}
