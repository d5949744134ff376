package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/prometheus/client_golang/prometheus"
)

// reportWriter stores one agent stream's reports. Receiving and storing are
// apart: the stream's reader hands each report over (take) and goes back to
// reading, and a writer goroutine stores the newest report it holds, so a
// slow etcd makes reports wait and be superseded, not the agent's stream,
// and a report waiting to be written still counts as the agent being there.
type reportWriter struct {
	sess *store.StatusSession
	log  *slog.Logger
	// stored and unchanged count the reports written and not written.
	stored, unchanged prometheus.Counter
	ttl               time.Duration
	// latest holds the newest report not yet written.
	latest chan *v1.PopStatus
	// silent fires when no report has arrived for ttl: the agent's stream
	// lives but it stopped reporting. Its stored report is removed, as it
	// is when the stream ends: unchanged reports are not written, so the
	// lease alone says it is there.
	silent *time.Timer
}

// newReportWriter starts storing pop's reports until ctx (the stream's)
// ends; stop stops the silence timer.
func (a *agentServer) newReportWriter(ctx context.Context, pop string, log *slog.Logger) *reportWriter {
	w := &reportWriter{
		sess: a.st.StatusSession(pop, a.statusTTL, sameReport), log: log, ttl: a.statusTTL,
		stored: a.metrics.reports.WithLabelValues("true"), unchanged: a.metrics.reports.WithLabelValues("false"),
		latest: make(chan *v1.PopStatus, 1),
	}
	w.silent = time.AfterFunc(w.ttl, func() {
		log.Warn("agent silent: no report for the status TTL; its stored status is removed", "status_ttl", w.ttl)
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.sess.Expire(ectx); err != nil {
			log.Warn("removing a silent agent's status failed", "err", err)
		}
	})
	go w.write(ctx)
	return w
}

// take hands a report over, replacing one still waiting.
func (w *reportWriter) take(st *v1.PopStatus) {
	w.silent.Reset(w.ttl)
	for {
		select {
		case w.latest <- st:
			return
		default:
		}
		select {
		case <-w.latest:
		default:
		}
	}
}

// write stores the reports handed over until ctx ends.
func (w *reportWriter) write(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-w.latest:
			written, err := w.sess.Put(ctx, st)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("storing PoP status failed", "err", err)
			}
			if written {
				w.stored.Inc()
			} else {
				w.unchanged.Inc()
			}
		}
	}
}

// stop stops the silence timer.
func (w *reportWriter) stop() { w.silent.Stop() }
