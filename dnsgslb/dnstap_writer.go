package dnsgslb

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/backoff"
)

const (
	// tapTimeout bounds a write to, or the handshake with, a dnstap socket.
	tapTimeout = 5 * time.Second
	// tapTick is how often the writer writes what is queued: a queue of
	// 4096 holds 10 ms of 400,000 queries a second.
	tapTick = 10 * time.Millisecond
	// tapStopGrace is how long the writer may go on, once stopped,
	// writing what is queued to a socket: a stalled collector does not
	// hold up the exit for longer.
	tapStopGrace = time.Second
	// tapEntryKeep is the most room an entry keeps once written: one
	// grown by a large TCP reply goes back to tapEntryCap, so that the
	// queue does not hold tens of kilobytes per entry for good.
	tapEntryKeep = 4 * tapEntryCap
)

// tapWriter is an open dnstap output. The framestream writer does the
// handshake and writes the START and STOP frames; the data frames, whose
// length prefix the encoder writes, go through a buffer of their own,
// since the framestream writer allocates for every frame.
type tapWriter struct {
	fs dnstap.Writer
	bw *bufio.Writer
	c  io.Closer
	// sent counts the messages the output took; buffered those written
	// to the buffer since, of pending queries.
	sent              *atomic.Uint64
	buffered, pending uint64
}

// write buffers one data frame, flushing first when the buffer has no
// room for it, so that a message is counted as sent only once the output
// took it.
func (w *tapWriter) write(frame []byte) error {
	if len(frame) > w.bw.Available() && w.bw.Buffered() > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if _, err := w.bw.Write(frame); err != nil {
		return err
	}
	w.buffered++
	if w.bw.Buffered() == 0 { // longer than the buffer: written through
		w.sent.Add(w.buffered)
		w.buffered = 0
	}
	return nil
}

// entryDone says that an entry's messages are all written or buffered.
func (w *tapWriter) entryDone() { w.pending++ }

// flush writes what is buffered and counts it as sent.
func (w *tapWriter) flush() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	w.sent.Add(w.buffered)
	w.buffered, w.pending = 0, 0
	return nil
}

// close flushes, writes the STOP frame and closes the output. It returns
// the number of queries whose messages were lost in a failed flush.
func (w *tapWriter) close() uint64 {
	var lost uint64
	if w.flush() == nil {
		w.fs.Close() // writes the STOP frame
	} else {
		lost = w.pending
	}
	w.c.Close()
	return lost
}

// deadlineConn sets a write deadline of tapTimeout before each write, as
// the framestream writer does for its frames.
type deadlineConn struct{ net.Conn }

func (c deadlineConn) Write(b []byte) (int, error) {
	c.SetWriteDeadline(time.Now().Add(tapTimeout))
	return c.Conn.Write(b)
}

// open opens the output: a file is created (truncated); a socket is dialled
// and the Frame Streams handshake done, and is closed when hard ends,
// whatever it is doing then.
func (t *tap) open(hard context.Context) (*tapWriter, error) {
	var (
		rw  io.ReadWriteCloser
		raw io.Writer // for the data frames
		c   io.Closer
		opt *dnstap.WriterOptions
	)
	if t.out.network == "file" {
		f, err := os.OpenFile(t.out.addr, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, fmt.Errorf("dnstap output %q: %w", t.cfg.Output, err)
		}
		rw, raw, c = f, f, f
	} else {
		conn, err := (&net.Dialer{Timeout: tapTimeout}).DialContext(hard, t.out.network, t.out.addr)
		if err != nil {
			return nil, fmt.Errorf("dnstap output %q: %w", t.cfg.Output, err)
		}
		// The framestream writer sets a deadline before each write and
		// read: closing is what interrupts it for good.
		unhook := context.AfterFunc(hard, func() { conn.Close() })
		rw, raw, c = conn, deadlineConn{conn}, closer(func() error { unhook(); return conn.Close() })
		opt = &dnstap.WriterOptions{Bidirectional: true, Timeout: tapTimeout}
	}
	w, err := dnstap.NewWriter(rw, opt)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("dnstap output %q: %w", t.cfg.Output, err)
	}
	// The START frame is written (flushed): the data frames follow it.
	return &tapWriter{fs: w, bw: bufio.NewWriter(raw), c: c, sent: &t.sent}, nil
}

// closer is a func as an io.Closer.
type closer func() error

func (f closer) Close() error { return f() }

// run writes queued queries to w (nil: not open yet), every tapTick, until
// ctx ends, then writes those still queued and closes the output, giving
// a socket tapStopGrace for it. A socket lost or not
// there is dialled again, with backoff; meanwhile the queue fills and
// queries are dropped.
func (t *tap) run(ctx context.Context, w *tapWriter, log *slog.Logger) {
	// hard ends tapStopGrace after ctx: a socket still writing then (or
	// dialling, or waiting for the collector) is closed.
	hard, cancelHard := context.WithCancel(context.Background())
	defer cancelHard()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(tapStopGrace, cancelHard) })()
	bo := backoff.New(100*time.Millisecond, 10*time.Second)
	enc := newTapEncoder(t.cfg)
	write := func(e *tapEntry) error {
		defer func() {
			if cap(e.buf) > tapEntryKeep {
				e.buf = make([]byte, 0, tapEntryCap)
			}
			t.free <- e
		}()
		for _, typ := range [2]dnstap.Message_Type{dnstap.Message_AUTH_QUERY, dnstap.Message_AUTH_RESPONSE} {
			if typ == dnstap.Message_AUTH_RESPONSE && !e.answered {
				break
			}
			b, err := enc.encode(e, typ)
			if err != nil {
				return err
			}
			if err := w.write(b); err != nil {
				return err
			}
		}
		w.entryDone()
		return nil
	}
	lost := func(err error) {
		// The queries whose messages were in the buffer are lost with it.
		t.errors.Add(1)
		t.dropped.Add(w.pending)
		w.c.Close()
		w = nil
		if t.out.network == "file" {
			log.Error("dns dnstap file failed; queries are no longer logged", "output", t.cfg.Output, "err", err)
			return
		}
		log.Warn("dns dnstap output lost; queries are not logged until it is back", "output", t.cfg.Output, "err", err)
	}
	// drain writes what is queued, then flushes.
	drain := func() error {
		for {
			select {
			case e := <-t.full:
				if err := write(e); err != nil {
					t.dropped.Add(1)
					return err
				}
			default:
				return w.flush()
			}
		}
	}
	// The writer wakes on a tick rather than on every query: the answer
	// path hands an entry over without waking anybody.
	tick := time.NewTicker(tapTick)
	defer tick.Stop()
	warned := false // about the output not being reachable, since it was last
	for {
		if w == nil && t.out.network == "file" {
			// A file is not opened again: that would truncate what it
			// holds. What is queued now and later is not logged.
			t.discard(ctx, tick.C)
			return
		}
		if w == nil {
			if ctx.Err() != nil {
				return // stopped while the output was lost: no new one
			}
			var err error
			if w, err = t.open(hard); err != nil {
				t.errors.Add(1)
				if !warned {
					warned = true
					log.Warn("dns dnstap output not reachable; queries are not logged until it is", "output", t.cfg.Output, "err", err)
				}
				if !bo.Wait(ctx) {
					return
				}
				continue
			}
			bo.Reset()
			warned = false
			log.Info("dns dnstap output open", "output", t.cfg.Output)
		}
		done := false
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
		}
		if err := drain(); err != nil {
			lost(err)
			if done {
				return
			}
			continue
		}
		if done {
			if n := w.close(); n > 0 {
				t.errors.Add(1)
				t.dropped.Add(n)
			}
			return
		}
	}
}

// discard counts the queries queued as not logged, every tick, until ctx
// ends.
func (t *tap) discard(ctx context.Context, tick <-chan time.Time) {
	for {
		for drained := false; !drained; {
			select {
			case e := <-t.full:
				t.dropped.Add(1)
				t.free <- e
			default:
				drained = true
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

var (
	tapSentDesc    = prometheus.NewDesc("anyctl_dns_dnstap_messages_total", "dnstap messages written (AUTH_QUERY and AUTH_RESPONSE).", nil, nil)
	tapDroppedDesc = prometheus.NewDesc("anyctl_dns_dnstap_dropped_total", "Queries sampled for dnstap but not logged: the queue was full (the output is slow or down).", nil, nil)
	tapErrorsDesc  = prometheus.NewDesc("anyctl_dns_dnstap_errors_total", "Failures to open or write the dnstap output.", nil, nil)
)

// Describe implements prometheus.Collector.
func (t *tap) Describe(ch chan<- *prometheus.Desc) {
	ch <- tapSentDesc
	ch <- tapDroppedDesc
	ch <- tapErrorsDesc
}

// Collect implements prometheus.Collector.
func (t *tap) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(tapSentDesc, prometheus.CounterValue, float64(t.sent.Load()))
	ch <- prometheus.MustNewConstMetric(tapDroppedDesc, prometheus.CounterValue, float64(t.dropped.Load()))
	ch <- prometheus.MustNewConstMetric(tapErrorsDesc, prometheus.CounterValue, float64(t.errors.Load()))
}
