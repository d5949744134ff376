package agent

import (
	"sort"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the agent's Prometheus series, on its own registry.
type metrics struct {
	reg                 *prometheus.Registry
	sessionUp           *prometheus.GaugeVec
	announced           prometheus.Gauge
	checkUp             *prometheus.GaugeVec
	checkProbes         *prometheus.CounterVec
	checkDuration       *prometheus.HistogramVec
	flaps               *prometheus.GaugeVec
	refusals            *prometheus.CounterVec
	controllerConnected prometheus.Gauge
	configRevision      prometheus.Gauge
	persistedRefused    prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		sessionUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "anyctl_agent_bgp_session_up", Help: "1 when the BGP session to the peer is established.",
		}, []string{"peer"}),
		announced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anyctl_agent_prefixes_announced", Help: "Prefixes the agent announces.",
		}),
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "anyctl_agent_check_up", Help: "1 when the service's damped health check is up.",
		}, []string{"service"}),
		checkProbes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anyctl_agent_check_probes_total", Help: "Health probes of the service's check, by result (ok or fail).",
		}, []string{"service", "result"}),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "anyctl_agent_check_duration_seconds",
			Help:    "Duration of the service's health probes.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"service"}),
		flaps: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "anyctl_agent_check_flaps", Help: "Flaps of the service's check within its flap window.",
		}, []string{"service"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anyctl_agent_origination_refusals_total", Help: "Prefixes refused by the local origination policy.",
		}, []string{"service"}),
		controllerConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anyctl_agent_controller_connected", Help: "1 while the controller stream is established.",
		}),
		configRevision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anyctl_agent_config_revision", Help: "Store revision of the config the agent runs.",
		}),
		persistedRefused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "anyctl_agent_persisted_config_refused",
			Help: "1 when the persisted config was refused at start (damaged, or from an older version) and no config from the controller has replaced it yet.",
		}),
	}
	m.reg.MustRegister(m.sessionUp, m.announced, m.checkUp, m.checkProbes, m.checkDuration, m.flaps, m.refusals, m.controllerConnected, m.configRevision, m.persistedRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// sortStatus orders a status's lists so that reports compare stably.
func sortStatus(st *v1.PopStatus) {
	sort.Slice(st.Peers, func(i, j int) bool { return st.Peers[i].GetAddress() < st.Peers[j].GetAddress() })
	sort.Slice(st.OriginProbes, func(i, j int) bool { return st.OriginProbes[i].GetOrigin() < st.OriginProbes[j].GetOrigin() })
	sort.Slice(st.Checks, func(i, j int) bool { return st.Checks[i].GetService() < st.Checks[j].GetService() })
	sort.SliceStable(st.Prefixes, func(i, j int) bool {
		a, b := st.Prefixes[i], st.Prefixes[j]
		if a.GetService() != b.GetService() {
			return a.GetService() < b.GetService()
		}
		return a.GetPrefix() < b.GetPrefix()
	})
}
