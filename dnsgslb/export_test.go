package dnsgslb

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// readHold is what the first read of a GeoIP database waits on: held is
// closed to release it, reached once a read waits on it.
type readHold struct {
	held, reached chan struct{}
	once          sync.Once
}

// firstReadHeld is the hold of the first read, nil when it does not wait.
// The hook is set once, before any test runs: a read left running by a
// start cut short calls it after its test has ended.
var firstReadHeld atomic.Pointer[readHold]

func init() {
	geoIPFirstRead = func() {
		if h := firstReadHeld.Load(); h != nil {
			h.once.Do(func() { close(h.reached) })
			<-h.held
		}
	}
}

// HoldFirstGeoIPRead makes the first read of a GeoIP database wait until
// release is called or the test ends.
func HoldFirstGeoIPRead(t testing.TB) (release func()) {
	h := &readHold{held: make(chan struct{}), reached: make(chan struct{})}
	var once sync.Once
	release = func() { once.Do(func() { close(h.held) }) }
	firstReadHeld.Store(h)
	t.Cleanup(func() {
		firstReadHeld.CompareAndSwap(h, nil)
		release()
	})
	return release
}

// AwaitFirstGeoIPReadHeld waits, up to 10 s, until a first read waits on
// the hold HoldFirstGeoIPRead made.
func AwaitFirstGeoIPReadHeld(t testing.TB) {
	t.Helper()
	h := firstReadHeld.Load()
	if h == nil {
		t.Fatal("no first GeoIP read is held")
	}
	select {
	case <-h.reached:
	case <-time.After(10 * time.Second):
		t.Fatal("no first GeoIP read waits on its hold 10 s later")
	}
}

// RefineAgain starts a refine of the index served, as a build that left
// scope tables for later does (index.Index.Unfinished), and waits for it.
func RefineAgain(s *Server) {
	s.updateMu.Lock()
	s.startRefineLocked(s.snap, s.index.Load())
	s.updateMu.Unlock()
	s.refining.Wait()
}

// AwaitRefines waits for the refines running.
func AwaitRefines(s *Server) { s.refining.Wait() }
