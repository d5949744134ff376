package dnsgslb

import "github.com/prometheus/client_golang/prometheus"

var (
	rrlLimitedDesc  = prometheus.NewDesc("anyctl_dns_rrl_limited_total", "UDP responses over their rate limit (slipped or dropped).", nil, nil)
	rrlSlippedDesc  = prometheus.NewDesc("anyctl_dns_rrl_slipped_total", "Limited UDP responses sent truncated (TC) instead of dropped.", nil, nil)
	rrlDroppedDesc  = prometheus.NewDesc("anyctl_dns_rrl_dropped_total", "Limited UDP responses not sent.", nil, nil)
	rrlExemptedDesc = prometheus.NewDesc("anyctl_dns_rrl_exempted_total", "UDP responses over their rate limit sent anyway: the client is in an exempt network or a PoP cache network.", nil, nil)
)

// Describe implements prometheus.Collector.
func (l *rrl) Describe(ch chan<- *prometheus.Desc) {
	ch <- rrlLimitedDesc
	ch <- rrlSlippedDesc
	ch <- rrlDroppedDesc
	ch <- rrlExemptedDesc
}

// Collect implements prometheus.Collector.
func (l *rrl) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	stats := append([]*rrlStats(nil), l.stats...)
	l.mu.Unlock()
	var limited, slipped, dropped, exempted uint64
	for _, st := range stats {
		limited += st.limited.Load()
		slipped += st.slipped.Load()
		dropped += st.dropped.Load()
		exempted += st.exempted.Load()
	}
	ch <- prometheus.MustNewConstMetric(rrlLimitedDesc, prometheus.CounterValue, float64(limited))
	ch <- prometheus.MustNewConstMetric(rrlSlippedDesc, prometheus.CounterValue, float64(slipped))
	ch <- prometheus.MustNewConstMetric(rrlDroppedDesc, prometheus.CounterValue, float64(dropped))
	ch <- prometheus.MustNewConstMetric(rrlExemptedDesc, prometheus.CounterValue, float64(exempted))
}
