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

// firstReadEnded receives how the first reads of GeoIP databases end,
// while a test watches them (FirstGeoIPReadEnds).
var firstReadEnded atomic.Pointer[chan error]

func init() {
	geoIPFirstRead = func() {
		if h := firstReadHeld.Load(); h != nil {
			h.once.Do(func() { close(h.reached) })
			<-h.held
		}
	}
	geoIPFirstReadEnded = func(err error) {
		if c := firstReadEnded.Load(); c != nil {
			select {
			case *c <- err:
			default:
			}
		}
	}
}

// FirstGeoIPReadEnds returns what the next first read of a GeoIP database
// ends with (nil once read), until the test ends.
func FirstGeoIPReadEnds(t testing.TB) <-chan error {
	c := make(chan error, 1)
	firstReadEnded.Store(&c)
	t.Cleanup(func() { firstReadEnded.CompareAndSwap(&c, nil) })
	return c
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

// SetTCPDrainTime sets how long a connection closed after a message
// shorter than a header reads the client's input, until the test ends.
// Set it before the test's servers start.
func SetTCPDrainTime(t testing.TB, d time.Duration) {
	was := tcpDrainTime
	tcpDrainTime = d
	t.Cleanup(func() { tcpDrainTime = was })
}
