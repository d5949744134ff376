package controller

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controller/store"
	"github.com/anyctl/anyctl/popstatus"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
)

// reportWriter stores one agent stream's reports. Receiving and storing are
// apart: the stream's reader hands each report over (take) and goes back to
// reading, and a writer goroutine stores the newest report it holds, so a
// slow etcd makes reports wait and be superseded, not the agent's stream,
// and a report waiting to be written still counts as the agent being there.
// The writer runs only while there is something to store: at rest a
// stream holds no goroutine for it, one fewer stack per agent for the
// garbage collector to scan on every cycle.
// A report that says what the stored one says, with none waiting, is
// counted and dropped by the reader itself: at rest, that is every report.
// An acknowledgement of a newer config revision with nothing else changed
// (every agent's next report after a change) is not a report write: it
// goes in the replica's held-revision record (store.HeldRevisions), a few
// writes per change for all its agents.
type reportWriter struct {
	sess *store.StatusSession
	log  *slog.Logger
	pop  string
	// held is the replica's held-revision record.
	held *store.HeldRevisions
	// heldRev is the revision this stream's entry in held names, 0 when
	// it set none since its last full report; the reader's own.
	heldRev int64
	// stored and unchanged count the reports written and not written.
	stored, unchanged prometheus.Counter
	// failed counts the writes that failed.
	failed prometheus.Counter
	ttl    time.Duration
	// latest holds the newest report not yet written.
	latest chan *v1.PopStatus
	// waiting counts the reports handed over and not yet stored or
	// superseded: while it is 0 the stored report is the last one taken.
	waiting atomic.Int32
	// writing is set while a writer goroutine runs.
	writing atomic.Bool
	// lastReport is when the last report came (UnixNano).
	lastReport atomic.Int64
	// lastFull is the last full report taken; the reader's own.
	lastFull *v1.PopStatus
	// ctx is the stream's.
	ctx context.Context
	// silence removes the stored report when no report came for ttl: the
	// agent's stream lives but it stopped reporting. Unchanged reports
	// are not written, so the lease alone says it is there.
	silence *silenceWatch
	// nextCheck is when silence looks at lastReport next (UnixNano);
	// guarded by silence.mu.
	nextCheck int64
}

// newReportWriter starts storing pop's reports until ctx (the stream's)
// ends; stop stops the silence timer and ends the session.
func (a *agentServer) newReportWriter(ctx context.Context, pop string, log *slog.Logger) *reportWriter {
	w := &reportWriter{
		sess: a.st.StatusSession(pop, a.lease, a.statusTTL, popstatus.Same), log: log, ttl: a.statusTTL,
		stored: a.metrics.reports.WithLabelValues("true"), unchanged: a.metrics.reports.WithLabelValues("false"),
		failed: a.metrics.reportWriteFailures,
		latest: make(chan *v1.PopStatus, 1), ctx: ctx, silence: a.silence, pop: pop, held: a.held,
	}
	w.lastReport.Store(time.Now().UnixNano())
	w.silence.add(w)
	return w
}

// expireSilent removes the stored report of an agent that sent none for
// ttl; it reports false when that failed, to be tried again.
func (w *reportWriter) expireSilent() bool {
	if w.ctx.Err() != nil {
		return true
	}
	w.log.Warn("agent silent: no report for the status TTL; its stored status is removed", "status_ttl", w.ttl)
	ectx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 5*time.Second)
	defer cancel()
	if err := w.sess.Expire(ectx); err != nil {
		w.log.Warn("removing a silent agent's status failed; trying again", "err", err)
		return false
	}
	return true
}

// take hands a report over, replacing one still waiting; one that says
// what the stored report says, with none waiting, is only counted.
func (w *reportWriter) take(st *v1.PopStatus) {
	w.lastReport.Store(time.Now().UnixNano())
	w.lastFull = st
	if w.waiting.Load() == 0 && w.sess.Unchanged(st) {
		// The stored report says it all, revision included: an entry
		// this stream held says no more.
		w.dropHeld()
		w.unchanged.Inc()
		return
	}
	if st.GetConfigRevision() < w.heldRev {
		// The agent says it runs an older revision than it acknowledged.
		w.dropHeld()
	}
	// An entry of this revision or older goes once the report is
	// stored (store).
	w.heldRev = 0
	w.handOver(st)
}

// dropHeld removes this stream's held-revision entry, if it set one.
func (w *reportWriter) dropHeld() {
	if w.heldRev != 0 {
		w.heldRev = 0
		w.held.Drop(w.pop, w)
	}
}

// takeUnchanged takes the agent's word that its report is as the last
// full one: counted when that is stored, handed over again when it is
// not (its write failed, or it was removed while the agent was silent).
// With rev set and newer than the last full report's, the agent holds
// config revision rev and its report is otherwise the last full one, what
// every agent says after a change: with that report stored, or waiting
// to be (the writer stores the newest report taken, and that is the last
// full one), rev goes in the replica's held-revision record, not etcd's
// report; else (the stored report gone, the record full, or rev older)
// the report is taken as a new full one at revision rev. It reports false
// when no full report came before.
func (w *reportWriter) takeUnchanged(rev int64) bool {
	if w.lastFull == nil {
		return false
	}
	held := w.lastFull.GetConfigRevision()
	if w.heldRev != 0 {
		held = w.heldRev
	}
	if rev != 0 && rev != held {
		// The writer sets the stored report before it counts its write
		// done: with none waiting, the stored report is current.
		current := w.waiting.Load() != 0 || w.sess.Unchanged(w.lastFull)
		if rev > w.lastFull.GetConfigRevision() && w.held != nil && current && w.held.Set(w.pop, w, rev) {
			w.lastReport.Store(time.Now().UnixNano())
			w.heldRev = rev
			w.unchanged.Inc()
			return true
		}
		st := proto.CloneOf(w.lastFull)
		st.ConfigRevision = rev
		w.take(st)
		return true
	}
	w.lastReport.Store(time.Now().UnixNano())
	if w.waiting.Load() == 0 && w.sess.Unchanged(w.lastFull) {
		w.unchanged.Inc()
		return true
	}
	if w.heldRev != 0 {
		// The stored report is gone or not the last: store it whole,
		// with the revision held.
		st := proto.CloneOf(w.lastFull)
		st.ConfigRevision = w.heldRev
		w.lastFull, w.heldRev = st, 0
	}
	w.handOver(w.lastFull)
	return true
}

// hand gives the writer st, replacing a report still waiting.
func (w *reportWriter) hand(st *v1.PopStatus) {
	w.waiting.Add(1)
	for {
		select {
		case w.latest <- st:
			return
		default:
		}
		select {
		case <-w.latest:
			w.waiting.Add(-1)
		default:
		}
	}
}

// handOver hands st over and starts a writer unless one runs.
func (w *reportWriter) handOver(st *v1.PopStatus) {
	w.hand(st)
	if w.writing.CompareAndSwap(false, true) {
		go w.write()
	}
}

// write stores the reports handed over until none waits, or the stream
// ends. A write that fails is tried again, with a growing wait, until it
// is stored or a newer report takes its place: the newest report is not
// lost to a failed write (one transaction of many streams' reports, see
// store.StatusSession.Put).
func (w *reportWriter) write() {
	for w.ctx.Err() == nil {
		select {
		case st := <-w.latest:
			w.store(w.ctx, st)
			w.waiting.Add(-1)
			continue
		default:
		}
		w.writing.Store(false)
		// A report handed over after latest was seen empty and before
		// writing went down found this writer running and started none:
		// take it on, unless a writer has started since.
		if len(w.latest) == 0 || !w.writing.CompareAndSwap(false, true) {
			return
		}
	}
	w.writing.Store(false)
}

// Waits before a failed report write is tried again.
const (
	reportRetryFirst = 200 * time.Millisecond
	reportRetryMax   = 5 * time.Second
)

// store writes st, or a newer report handed over while a failed write
// waits to be tried again, until one is written or ctx ends.
func (w *reportWriter) store(ctx context.Context, st *v1.PopStatus) {
	var bo *backoff.Backoff
	for {
		written, err := w.sess.Put(ctx, st)
		if err == nil {
			// The stored report says its revision now: an entry of
			// it or an older one says no more. One newer (set while
			// st waited) stays.
			if w.held != nil {
				w.held.DropAtMost(w.pop, w, st.GetConfigRevision())
			}
			if written {
				w.stored.Inc()
			} else {
				w.unchanged.Inc()
			}
			if bo != nil {
				w.log.Debug("storing PoP status succeeded again")
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		w.failed.Inc()
		if bo == nil {
			w.log.Warn("storing PoP status failed; trying again", "err", err)
			bo = backoff.New(reportRetryFirst, reportRetryMax)
		} else {
			w.log.Debug("storing PoP status failed again", "err", err)
		}
		t := time.NewTimer(bo.Next())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case newer := <-w.latest:
			// st is superseded: the newer one is tried at once.
			t.Stop()
			w.waiting.Add(-1)
			st = newer
		case <-t.C:
		}
	}
}

// stop stops watching for silence and ends the session: the stored report
// is removed after the TTL unless the PoP's next stream writes it first,
// and the stream's held-revision entry with it, so that the report shows
// the revision the agent held until then.
func (w *reportWriter) stop() {
	w.silence.remove(w)
	w.sess.End()
	if w.held != nil && w.held.Held(w.pop) != 0 {
		time.AfterFunc(w.ttl, func() { w.held.Drop(w.pop, w) })
	}
}
