package authn

import "github.com/prometheus/client_golang/prometheus"

var (
	certExpiryDesc = prometheus.NewDesc("anyctl_tls_certificate_expiry_timestamp_seconds",
		"When the TLS certificate in use expires, in Unix seconds; file is the certificate's path.", []string{"file"}, nil)
	certNotBeforeDesc = prometheus.NewDesc("anyctl_tls_certificate_not_before_timestamp_seconds",
		"When the TLS certificate in use became valid, in Unix seconds: with the expiry, its lifetime. file is the certificate's path.", []string{"file"}, nil)
	reloadFailingDesc = prometheus.NewDesc("anyctl_tls_reload_failing",
		"1 while the TLS files changed but do not load (the ones in use stay; the log says why), else 0; file is the certificate's path (the CA's without one).", []string{"file"}, nil)
	reloadsDesc = prometheus.NewDesc("anyctl_tls_reloads_total",
		"Changed sets of TLS files taken (result=ok) or refused (result=failed) since start.", []string{"file", "result"}, nil)
)

// Collector exports the state of rs (nil ones are skipped): the expiry of
// the certificate in use, whether changed files fail to load, and the
// reloads. A scrape checks the files first, as a handshake does.
func Collector(rs ...*Reloader) prometheus.Collector {
	var c reloaderCollector
	for _, r := range rs {
		if r != nil {
			c = append(c, r)
		}
	}
	return c
}

type reloaderCollector []*Reloader

func (c reloaderCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{certExpiryDesc, certNotBeforeDesc, reloadFailingDesc, reloadsDesc} {
		ch <- d
	}
}

func (c reloaderCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c {
		s := r.current()
		r.mu.Lock()
		failing, reloads, failures := r.failing, r.reloads, r.failures
		r.mu.Unlock()
		name := r.name()
		if s.cert != nil {
			ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(s.cert.Leaf.NotAfter.Unix()), name)
			ch <- prometheus.MustNewConstMetric(certNotBeforeDesc, prometheus.GaugeValue, float64(s.cert.Leaf.NotBefore.Unix()), name)
		}
		f := 0.0
		if failing {
			f = 1
		}
		ch <- prometheus.MustNewConstMetric(reloadFailingDesc, prometheus.GaugeValue, f, name)
		ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(reloads), name, "ok")
		ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(failures), name, "failed")
	}
}
