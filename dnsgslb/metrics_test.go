package dnsgslb_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

func TestMetrics(t *testing.T) {
	ts := startServer(t)
	for range 3 {
		ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London))
	}
	ts.exchange(t, "tcp", msg(t, "nope.gslb.example.com.", dns.TypeAAAA, ""))
	ts.exchange(t, "udp", msg(t, "www.example.org.", dns.TypeA, ""))

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(ts.Collector()); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			got[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	for key, want := range map[string]float64{
		"anyctl_dns_queries_total{rcode=NOERROR,type=A,zone=gslb.example.com.}":     3,
		"anyctl_dns_queries_total{rcode=NXDOMAIN,type=AAAA,zone=gslb.example.com.}": 1,
		"anyctl_dns_queries_total{rcode=REFUSED,type=A,zone=-}":                     1,
		"anyctl_dns_answers_total{origin=eu-west}":                                  3,
		"anyctl_dns_answers_total{origin=us-east}":                                  0,
		"anyctl_dns_snapshot_revision{}":                                            7,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if age := got["anyctl_dns_snapshot_age_seconds{}"]; age <= 0 {
		t.Errorf("snapshot age %v, want > 0", age)
	}
}
