package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// etcdSlowAnswer is the round trip beyond which etcd answers this
// replica slowly: a healthy cluster answers a probe in milliseconds. A
// slow etcd is not lost (etcdHealth), but its confirmations come late
// and an operator should know why.
const etcdSlowAnswer = time.Second

// probeResult is one probe's outcome and how long it waited for it.
type probeResult struct {
	err       error
	roundTrip time.Duration
}

// etcdAnswers is how etcd answers this replica, as operators see it.
type etcdAnswers struct {
	// age is the time since etcd last answered: a probe or the replica
	// lease's keepalive.
	age time.Duration
	// roundTrip is how long the last answered probe took; zero before
	// the first.
	roundTrip time.Duration
	// silent is set while the replica tells its streams that etcd does
	// not answer (etcdHealth.silence).
	silent bool
}

// answeredProbe records a probe answered at at after roundTrip.
func (h *etcdHealth) answeredProbe(at time.Time, roundTrip time.Duration) {
	if h.roundTrips != nil {
		h.roundTrips.Observe(roundTrip.Seconds())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answered, h.roundTrip = at, roundTrip
}

// answers says how etcd answers this replica at now. Before the first
// answer, the age counts from the replica's start. A nil etcdHealth
// answers at once.
func (h *etcdHealth) answers(now time.Time) etcdAnswers {
	if h == nil {
		return etcdAnswers{}
	}
	var lease time.Time
	if h.leaseAck != nil {
		lease = h.leaseAck()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	last := h.answered
	if last.IsZero() {
		last = h.started
	}
	if lease.After(last) {
		last = lease
	}
	return etcdAnswers{age: max(0, now.Sub(last)), roundTrip: h.roundTrip, silent: h.silent}
}

// exportEtcdAnswers exports how etcd answers this replica; call it
// before h runs.
func (m *metrics) exportEtcdAnswers(h *etcdHealth) {
	h.roundTrips = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "anyctl_controller_etcd_probe_duration_seconds",
		Help:    "Round trip of this replica's answered etcd probes (a linearizable read every second). Above 1 s etcd answers slowly: confirmations come late, and clients may leave the replica.",
		Buckets: []float64{0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
	})
	m.reg.MustRegister(h.roundTrips.(prometheus.Histogram),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "anyctl_controller_etcd_answer_age_seconds",
			Help: "How long ago etcd last answered this replica (a probe or the replica lease's keepalive); about 1 s while it answers, however slowly. From 2 s the replica tells its streams etcd is silent; after a grace (5 s) its status says degraded.",
		}, func() float64 { return h.answers(time.Now()).age.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "anyctl_controller_etcd_probe_last_duration_seconds",
			Help: "Round trip of this replica's last answered etcd probe (0 before the first).",
		}, func() float64 { return h.answers(time.Now()).roundTrip.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "anyctl_controller_etcd_silent",
			Help: "1 while etcd has not answered this replica for 2 s: the replica tells its agents' and DNS servers' streams that it cannot confirm its state, and refuses writes at once.",
		}, func() float64 {
			if h.answers(time.Now()).silent {
				return 1
			}
			return 0
		}))
}
