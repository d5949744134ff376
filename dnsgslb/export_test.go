package dnsgslb

import (
	"sync"
	"sync/atomic"
	"testing"
)

// firstReadHeld is what the first read of a GeoIP database waits on, nil
// when it does not wait. The hook is set once, before any test runs: a read
// left running by a start cut short calls it after its test has ended.
var firstReadHeld atomic.Pointer[chan struct{}]

func init() {
	geoIPFirstRead = func() {
		if held := firstReadHeld.Load(); held != nil {
			<-*held
		}
	}
}

// HoldFirstGeoIPRead makes the first read of a GeoIP database wait until
// release is called or the test ends.
func HoldFirstGeoIPRead(t testing.TB) (release func()) {
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	firstReadHeld.Store(&held)
	t.Cleanup(func() {
		firstReadHeld.CompareAndSwap(&held, nil)
		release()
	})
	return release
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
