package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the controller's Prometheus series, on their own registry.
type metrics struct {
	reg          *prometheus.Registry
	applies      *prometheus.CounterVec
	agentStreams prometheus.Gauge
	feedStreams  prometheus.Gauge
	revision     prometheus.GaugeFunc
	objects      *prometheus.GaugeVec
	leader       prometheus.Gauge
	held         *prometheus.GaugeVec
	// watchQueued counts the events Watch streams hold for their clients.
	watchQueued prometheus.Gauge
	// streamsDropped counts streams ended because their client fell behind.
	streamsDropped *prometheus.CounterVec
	// agentClaimWaits counts agent streams that waited for a PoP's claim
	// through another replica to go stale.
	agentClaimWaits prometheus.Counter
	tlsRefused      *prometheus.CounterVec
	// reports counts agent reports by whether they were written to etcd
	// (unchanged ones are not).
	reports *prometheus.CounterVec
	// reportWriteFailures counts report writes to etcd that failed (each
	// is tried again).
	reportWriteFailures prometheus.Counter
	// idleCollections counts the idle collector's garbage collections.
	idleCollections prometheus.Counter
	// processors is the processors the process runs on (GOMAXPROCS).
	processors prometheus.Gauge
	// connsRefused counts connections closed at accept for a limit.
	connsRefused *prometheus.CounterVec
	// feedFirsts counts feed streams by what their first response
	// carried: the snapshot, or the word that the one held is current.
	feedFirsts *prometheus.CounterVec
}

func newMetrics(cache *stateCache) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		applies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anyctl_controller_applies_total",
			Help: "Apply calls by result (ok or the gRPC code).",
		}, []string{"result"}),
		agentStreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anyctl_controller_agent_streams",
			Help: "Agent streams connected to this replica.",
		}),
		feedStreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anyctl_controller_gslb_feed_streams",
			Help: "DNS servers subscribed to this replica's GSLB feed.",
		}),
		feedFirsts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anyctl_controller_gslb_feed_first_responses_total",
			Help: "Feed streams by what their first response carried: sent=\"snapshot\" the whole snapshot, sent=\"current\" the word that the snapshot the DNS server holds (its revision and digest) is the current one.",
		}, []string{"sent"}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "anyctl_controller_objects",
			Help: "Desired-state objects by kind.",
		}, []string{"kind"}),
	}
	for _, sent := range []string{"snapshot", "current"} {
		m.feedFirsts.WithLabelValues(sent)
	}
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "anyctl_controller_leader",
		Help: "1 while this replica leads the fleet jobs (drains, withdrawal budget).",
	})
	m.held = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "anyctl_controller_budget_held_pops",
		Help: "PoPs whose announcements the withdrawal budget holds despite failing health, by service.",
	}, []string{"service"})
	m.watchQueued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "anyctl_controller_watch_queued_events",
		Help: "Events queued in Watch streams for clients that have not read them yet.",
	})
	m.streamsDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "anyctl_controller_streams_dropped_total",
		Help: "Streams ended because the client fell behind, by stream (watch, agent, gslb_feed).",
	}, []string{"stream"})
	m.agentClaimWaits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "anyctl_controller_agent_claim_waits_total",
		Help: "Agent streams that found their PoP claimed through another replica and waited for that claim to go stale before being served or refused.",
	})
	m.tlsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "anyctl_controller_tls_handshakes_refused_total",
		Help: "TLS handshakes that failed, by reason (plaintext, unknown_ca, no_certificate, expired, client_refused, closed, timeout, other).",
	}, []string{"reason"})
	m.connsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "anyctl_controller_connections_refused_total",
		Help: "Connections closed as soon as accepted, by limit (limit, per_ip_limit, local_limit).",
	}, []string{"reason"})
	m.reports = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "anyctl_controller_agent_reports_total",
		Help: "Agent status reports received, by whether they were written to etcd as a report (stored=false: the same as the stored report, only liveness, or naming a new config revision, kept in the replica's held-revision record).",
	}, []string{"stored"})
	m.reportWriteFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "anyctl_controller_agent_report_write_failures_total",
		Help: "Agent status report writes, and writes of the replica's held-revision record, to etcd that failed; each is tried again until it is stored or a newer report (or record) replaces it.",
	})
	m.idleCollections = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "anyctl_controller_idle_gc_total",
		Help: "Garbage collections run at rest after a burst, so that the next burst (a change's fan-out) does not pay for them.",
	})
	m.processors = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "anyctl_controller_processors",
		Help: "Processors the controller's process runs Go code on (GOMAXPROCS): one while it is at rest, the runtime's default while it works.",
	})
	m.revision = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "anyctl_controller_state_revision",
		Help: "Store revision of the desired state this replica holds.",
	}, func() float64 {
		s, _ := cache.Current()
		return float64(s.Revision)
	})
	m.reg.MustRegister(m.reports, m.reportWriteFailures, m.idleCollections, m.processors, m.leader, m.tlsRefused, m.connsRefused, m.held, m.watchQueued, m.streamsDropped, m.agentClaimWaits, m.applies, m.agentStreams, m.feedStreams, m.feedFirsts, m.revision, m.objects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// exportConfirmedAge exports the age of the replica's newest confirmation
// that its state is current (freshness.age).
func (m *metrics) exportConfirmedAge(age func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "anyctl_controller_state_confirmed_age_seconds",
		Help: "How long ago this replica last confirmed against etcd that its state is current (every --feed-confirm-every); DNS servers and agents leave a replica that stops.",
	}, age))
}
