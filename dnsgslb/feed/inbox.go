package feed

import (
	"sync"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// inbox is what a stream's receiving goroutine hands the goroutine that
// applies snapshots. The stream is read while a snapshot builds, so that
// the replica's confirmations are taken then too; a snapshot is the whole
// state, so one that arrives before the one before it was taken replaces
// it, and a burst of changes during a build is built once, as the newest.
type inbox struct {
	// ready holds a signal once something was put since the last take.
	ready chan struct{}

	mu sync.Mutex // guards current, snap, superseded and err
	// current is the replica's word that the snapshot held is current.
	current *v1.SnapshotCurrent
	// snap is the newest snapshot not yet taken; superseded counts those
	// it replaced.
	snap       *v1.GslbSnapshot
	superseded int
	// err ended the stream; nothing is put after it.
	err error
}

func newInbox() *inbox { return &inbox{ready: make(chan struct{}, 1)} }

// putCurrent keeps the replica's word that the snapshot held is current.
func (in *inbox) putCurrent(cur *v1.SnapshotCurrent) {
	in.mu.Lock()
	in.current = cur
	in.mu.Unlock()
	in.signal()
}

// putSnapshot keeps snap in place of any snapshot not yet taken.
func (in *inbox) putSnapshot(snap *v1.GslbSnapshot) {
	in.mu.Lock()
	if in.snap != nil {
		in.superseded++
	}
	in.snap = snap
	in.mu.Unlock()
	in.signal()
}

// putErr keeps the error that ended the stream.
func (in *inbox) putErr(err error) {
	in.mu.Lock()
	in.err = err
	in.mu.Unlock()
	in.signal()
}

func (in *inbox) signal() {
	select {
	case in.ready <- struct{}{}:
	default:
	}
}

// take waits for something to be put and returns everything not yet
// taken: the replica's word comes before a snapshot sent after it, and a
// snapshot received before the stream ended is to be applied before its
// error is.
func (in *inbox) take() (cur *v1.SnapshotCurrent, snap *v1.GslbSnapshot, superseded int, err error) {
	<-in.ready
	in.mu.Lock()
	defer in.mu.Unlock()
	cur, snap, superseded, err = in.current, in.snap, in.superseded, in.err
	in.current, in.snap, in.superseded = nil, nil, 0
	return cur, snap, superseded, err
}
