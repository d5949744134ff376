//go:build linux

package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// timing is what one timed step took.
type timing struct {
	wall, cpu time.Duration
	// alloc is what the process allocated meanwhile (runtime.MemStats
	// TotalAlloc), the step's garbage and what it keeps.
	alloc uint64
	// done is false when the step did not finish within the timeout; wall
	// and cpu are then what it had used so far.
	done bool
}

func (t timing) String() string {
	if !t.done {
		return fmt.Sprintf("did not finish in %s (CPU %s so far)", dur(t.wall), dur(t.cpu))
	}
	return fmt.Sprintf("%s (CPU %s, allocated %s)", dur(t.wall), dur(t.cpu), mib(t.alloc))
}

// totalAlloc is runtime.MemStats.TotalAlloc.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// timed runs f, waiting at most timeout. A step that does not finish keeps
// running in the background: the caller should stop measuring.
func timed(timeout time.Duration, f func() error) (timing, error) {
	alloc0, cpu0, start := totalAlloc(), cpuTime(), time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		wall, cpu := time.Since(start), cpuTime()-cpu0
		return timing{wall: wall, cpu: cpu, alloc: totalAlloc() - alloc0, done: true}, err
	case <-t.C:
		return timing{wall: time.Since(start), cpu: cpuTime() - cpu0}, nil
	}
}

// compile compiles snap with the database, as the server does, signing
// the zones signers has keys for (nil: none), reusing what it can of prev
// (nil: nothing).
func compile(snap *v1.GslbSnapshot, db *geo.DB, signers map[string]*dnssec.Signer, prev *index.Index, timeout time.Duration) (*index.Index, timing, error) {
	var ix *index.Index
	t, err := timed(timeout, func() error {
		var err error
		ix, err = index.Compile(snap, index.Options{GeoIP: db, Signers: signers, Previous: prev})
		if err != nil {
			return fmt.Errorf("compile snapshot revision %d: %w", snap.GetRevision(), err)
		}
		return nil
	})
	if !t.done {
		return nil, t, nil
	}
	return ix, t, err
}
