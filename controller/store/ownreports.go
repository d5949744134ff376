package store

import (
	"sync"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// ownReports holds, by key, the report each of this Store's status
// sessions last wrote, encoded and decoded. The status mirror takes a
// watched value that is byte for byte the one written as the message
// already decoded rather than decoding it again: after a change every
// agent's next report is written and comes back through the watch, and
// decoding each a second time cost allocation, the collector's time and
// a second copy of every report kept in memory. Equal bytes decode to an
// equal message, so a hit is exact whatever the order of the write's
// answer and its watch event; anything else (another replica's write, an
// older value) is decoded. The messages are shared and never modified.
type ownReports struct {
	mu sync.Mutex
	m  map[string]ownReport
}

type ownReport struct {
	value string
	st    *v1.PopStatus
}

// note records st, encoded as value, as the report about to be written
// to key.
func (o *ownReports) note(key, value string, st *v1.PopStatus) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]ownReport{}
	}
	o.m[key] = ownReport{value: value, st: st}
}

// take returns the report noted for key when value is its encoding, and
// forgets it; nil otherwise.
func (o *ownReports) take(key string, value []byte) *v1.PopStatus {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.m[key]
	if !ok || r.value != string(value) {
		return nil
	}
	delete(o.m, key)
	return r.st
}

// forget drops what was noted for key: its session ended.
func (o *ownReports) forget(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.m, key)
}
