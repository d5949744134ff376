package controller_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/controllertest"
)

// etcdAnswerSeries are the series that say how etcd answers a replica.
var etcdAnswerSeries = []string{
	"anyctl_controller_etcd_answer_age_seconds",
	"anyctl_controller_etcd_probe_last_duration_seconds",
	"anyctl_controller_etcd_probe_duration_seconds_count",
	"anyctl_controller_etcd_silent",
}

// etcdAnswerMetrics scrapes the replica's etcdAnswerSeries.
func etcdAnswerMetrics(t *testing.T, r *controllertest.Running) map[string]float64 {
	t.Helper()
	body := scrape(t, "http://"+r.Ctrl.MetricsAddr().String()+"/metrics")
	got := map[string]float64{}
	for l := range strings.Lines(body) {
		name, v, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		got[name] = f
	}
	for _, name := range etcdAnswerSeries {
		if _, ok := got[name]; !ok {
			t.Fatalf("no %s in the replica's metrics", name)
		}
	}
	return got
}

// awaitEtcdAnswerMetrics scrapes the replica until its etcdAnswerSeries
// satisfy ok, for 30 s at most, and returns them with how long it took.
func awaitEtcdAnswerMetrics(t *testing.T, r *controllertest.Running, what string, ok func(m map[string]float64) bool) (map[string]float64, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		m := etcdAnswerMetrics(t, r)
		if ok(m) {
			return m, time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, not %s: %s", what, formatSeries(m))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func formatSeries(m map[string]float64) string {
	var b strings.Builder
	for _, name := range etcdAnswerSeries {
		fmt.Fprintf(&b, "\n  %s %v", name, m[name])
	}
	return b.String()
}

// TestEtcdSlowAnswersShowInMetrics: etcd that answers every probe, but in
// 2.4 s instead of milliseconds, shows in the probes' round trip while
// the replica is not silent; when it is fast again, so is the round
// trip.
func TestEtcdSlowAnswersShowInMetrics(t *testing.T) {
	r, proxy := controllertest.StartBehindProxy(t)
	m, _ := awaitEtcdAnswerMetrics(t, r, "answering promptly", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_duration_seconds_count"] > 0 &&
			m["anyctl_controller_etcd_probe_last_duration_seconds"] < 1 &&
			m["anyctl_controller_etcd_silent"] == 0
	})
	before := m["anyctl_controller_etcd_probe_duration_seconds_count"]

	proxy.Delay(1200 * time.Millisecond)
	m, took := awaitEtcdAnswerMetrics(t, r, "answering in 2.4 s", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_last_duration_seconds"] >= 2
	})
	t.Logf("slowed to a 2.4 s round trip, after %s:%s", took.Round(time.Millisecond), formatSeries(m))
	if m["anyctl_controller_etcd_probe_duration_seconds_count"] <= before {
		t.Errorf("a slow probe's round trip shows as the last, but the histogram counts no more probes than before (%v)", before)
	}

	proxy.Delay(0)
	m, took = awaitEtcdAnswerMetrics(t, r, "answering promptly again", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_last_duration_seconds"] < 1
	})
	t.Logf("fast again, after %s:%s", took.Round(time.Millisecond), formatSeries(m))
}

// TestEtcdSilenceShowsInMetrics: cut off from etcd, the replica shows
// that it tells its streams etcd is silent, and for how long etcd has
// not answered; once etcd answers again, it is no longer silent.
func TestEtcdSilenceShowsInMetrics(t *testing.T) {
	r, proxy := controllertest.StartBehindProxy(t)
	awaitEtcdAnswerMetrics(t, r, "answering", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_duration_seconds_count"] > 0 &&
			m["anyctl_controller_etcd_answer_age_seconds"] < 2 &&
			m["anyctl_controller_etcd_silent"] == 0
	})

	proxy.Partition()
	m, took := awaitEtcdAnswerMetrics(t, r, "silent", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_silent"] == 1
	})
	t.Logf("cut off, after %s:%s", took.Round(time.Millisecond), formatSeries(m))
	if age := m["anyctl_controller_etcd_answer_age_seconds"]; age < 2 {
		t.Errorf("silent, but etcd last answered %v s ago; want at least 2 s", age)
	}
	m, _ = awaitEtcdAnswerMetrics(t, r, "silent for 3 s", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_answer_age_seconds"] >= 3
	})
	if m["anyctl_controller_etcd_silent"] != 1 {
		t.Errorf("etcd silent for %v s, but the replica does not say it is", m["anyctl_controller_etcd_answer_age_seconds"])
	}

	proxy.Heal()
	m, took = awaitEtcdAnswerMetrics(t, r, "answering again", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_silent"] == 0 && m["anyctl_controller_etcd_answer_age_seconds"] < 2
	})
	t.Logf("healed, after %s:%s", took.Round(time.Millisecond), formatSeries(m))
}
