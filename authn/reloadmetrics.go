package authn

import (
	"crypto/tls"

	"github.com/prometheus/client_golang/prometheus"
)

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
// reloads. A scrape checks the files first, as a handshake does. Two
// reloaders of the same certificate file (one certificate for a server
// and a client) are exported once, failing when either fails.
func Collector(rs ...*Reloader) prometheus.Collector {
	var c reloaderCollector
	for _, r := range rs {
		if r != nil {
			c = append(c, r)
		}
	}
	return c
}

// reloaderState is what one file's series say.
type reloaderState struct {
	cert              *tls.Certificate
	failing           bool
	reloads, failures int
}

type reloaderCollector []*Reloader

func (c reloaderCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{certExpiryDesc, certNotBeforeDesc, reloadFailingDesc, reloadsDesc} {
		ch <- d
	}
}

func (c reloaderCollector) Collect(ch chan<- prometheus.Metric) {
	var names []string
	states := map[string]*reloaderState{}
	for _, r := range c {
		s := r.current()
		name := r.name()
		st, ok := states[name]
		if !ok {
			st = &reloaderState{}
			states[name] = st
			names = append(names, name)
		}
		if st.cert == nil {
			st.cert = s.cert
		}
		r.mu.Lock()
		st.failing = st.failing || r.failing
		st.reloads += r.reloads
		st.failures += r.failures
		r.mu.Unlock()
	}
	for _, name := range names {
		st := states[name]
		if st.cert != nil {
			ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(st.cert.Leaf.NotAfter.Unix()), name)
			ch <- prometheus.MustNewConstMetric(certNotBeforeDesc, prometheus.GaugeValue, float64(st.cert.Leaf.NotBefore.Unix()), name)
		}
		f := 0.0
		if st.failing {
			f = 1
		}
		ch <- prometheus.MustNewConstMetric(reloadFailingDesc, prometheus.GaugeValue, f, name)
		ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(st.reloads), name, "ok")
		ch <- prometheus.MustNewConstMetric(reloadsDesc, prometheus.CounterValue, float64(st.failures), name, "failed")
	}
}
