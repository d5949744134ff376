package dnsgslb

import (
	"context"
	"sync/atomic"
	"time"
)

// clock is the time in whole seconds since the epoch, as DNS cookies
// carry it: a query reads it with one atomic load instead of asking the
// system, which on some virtual machines costs more than the rest of the
// answer.
type clock struct{ now atomic.Uint32 }

func (c *clock) set() { c.now.Store(uint32(time.Now().Unix())) }

// Now is the time, at most a second behind while run runs.
func (c *clock) Now() uint32 { return c.now.Load() }

// run keeps the clock current until ctx ends.
func (c *clock) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.set()
		}
	}
}
