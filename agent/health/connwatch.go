package health

import (
	"context"
	"net"
	"sync"
	"time"
)

// connWatch keeps one idle TCP connection open to a tcp or http(s) target
// between probes. When the service process dies, the kernel closes that
// connection and the blocked read returns at once; the Checker then probes
// out of cycle. It only accelerates: the probe decides, so a server that
// closes idle connections costs one extra, successful probe.
type connWatch struct {
	target   string
	interval time.Duration
	timeout  time.Duration
	// fired receives when a watched connection ends or cannot be opened.
	fired chan struct{}

	// active and armedAt are owned by the Run goroutine.
	active  bool
	armedAt time.Time
}

func newConnWatch(s Spec) *connWatch {
	return &connWatch{
		target:   s.Target,
		interval: s.Interval,
		timeout:  s.Timeout,
		fired:    make(chan struct{}, 1),
	}
}

// arm starts a watch unless one is running or one was started less than
// half an interval ago (a server that drops idle connections at once would
// otherwise make the Checker probe in a tight loop; this bounds it to two
// extra probes per interval). Half, not a whole interval: probe times
// jitter, and a whole one refused about half the re-arms after a quick
// recovery, leaving the next failure to the probe grid.
func (w *connWatch) arm(ctx context.Context, wg *sync.WaitGroup, now time.Time) {
	if w.active || (!w.armedAt.IsZero() && now.Sub(w.armedAt) < w.interval/2) {
		return
	}
	w.active, w.armedAt = true, now
	wg.Go(func() { w.run(ctx) })
}

// run holds one connection until it ends, discarding anything the server
// sends, then fires. A failed dial fires too: the probe it causes will see
// why.
func (w *connWatch) run(ctx context.Context) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, w.timeout)
	conn, err := d.DialContext(dctx, "tcp", w.target)
	cancel()
	if err == nil {
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		buf := make([]byte, 512)
		for err == nil {
			_, err = conn.Read(buf)
		}
		stop()
		conn.Close()
	}
	if ctx.Err() != nil {
		return
	}
	select {
	case w.fired <- struct{}{}:
	default:
	}
}
