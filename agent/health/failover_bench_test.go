package health

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// minTrials is the least number of trials each failover case runs, whatever
// b.N is, so that the percentiles mean something.
const minTrials = 20

type failoverCase struct {
	name     string
	protocol string
	fall     int
	watch    bool
	fast     time.Duration
}

// BenchmarkFailoverDetect measures, with a 100ms interval, the time from
// killing a target (closing its listener and its connections, as a dying
// process does) to onChange(false). The kill lands at a random phase of the
// probe grid. It reports the median and 99th percentile in milliseconds:
//
//	go test -run '^$' -bench FailoverDetect -benchtime 50x ./agent/health/
//
// ns/op is the wall time of a whole trial and means little.
func BenchmarkFailoverDetect(b *testing.B) {
	cases := []failoverCase{
		{"tcp/fall1", ProtocolTCP, 1, true, 0},
		{"tcp/fall2", ProtocolTCP, 2, true, 0},
		{"tcp/fall2/fast10ms", ProtocolTCP, 2, true, 10 * time.Millisecond},
		{"tcp/fall1/nowatch", ProtocolTCP, 1, false, 0},
		{"tcp/fall2/nowatch", ProtocolTCP, 2, false, 0},
		{"http/fall1", ProtocolHTTP, 1, true, 0},
		{"http/fall2", ProtocolHTTP, 2, true, 0},
		{"http/fall2/fast10ms", ProtocolHTTP, 2, true, 10 * time.Millisecond},
		{"http/fall1/nowatch", ProtocolHTTP, 1, false, 0},
		{"http/fall2/nowatch", ProtocolHTTP, 2, false, 0},
	}
	for _, fc := range cases {
		b.Run(fc.name, func(b *testing.B) {
			var lat []time.Duration
			for i := 0; i < max(b.N, minTrials); i++ {
				lat = append(lat, failoverTrial(b, fc))
			}
			slices.Sort(lat)
			p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
			b.ReportMetric(ms(p50), "p50-ms")
			b.ReportMetric(ms(p99), "p99-ms")
			b.Logf("%s: %d trials, p50 %s, p99 %s, min %s, max %s", fc.name, len(lat), p50, p99, lat[0], lat[len(lat)-1])
		})
	}
}

// failoverTrial brings up one target and one Checker, kills the target and
// returns how long the Checker took to say so.
func failoverTrial(b *testing.B, fc failoverCase) time.Duration {
	b.Helper()
	var addr string
	var kill func()
	switch fc.protocol {
	case ProtocolTCP:
		tt := startTCPTarget(b, false)
		addr, kill = tt.Addr(), tt.Kill
	case ProtocolHTTP:
		ht := startHTTPTarget(b, false)
		addr, kill = ht.Addr(), ht.srv.Close
	}
	up := make(chan struct{}, 1)
	down := make(chan time.Time, 1)
	onChange := func(_ string, isUp bool) {
		at := time.Now()
		if isUp {
			select {
			case up <- struct{}{}:
			default:
			}
			return
		}
		select {
		case down <- at:
		default:
		}
	}
	spec := Spec{Protocol: fc.protocol, Target: addr, Path: "/health", Interval: 100 * time.Millisecond,
		Timeout: 100 * time.Millisecond, FastInterval: fc.fast, Rise: 1, Fall: fc.fall, DisableConnWatch: !fc.watch}
	c := NewChecker("bench", spec, DampConfig{}, nil, onChange)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	select {
	case <-up:
	case <-time.After(5 * time.Second):
		b.Fatalf("%s: target never came up: %+v", fc.name, c.Status())
	}
	<-time.After(rand.N(spec.Interval)) // a random phase of the probe grid, not synchronisation
	killed := time.Now()
	kill()
	select {
	case at := <-down:
		return at.Sub(killed)
	case <-time.After(5 * time.Second):
		b.Fatalf("%s: no withdrawal 5s after the kill: %+v", fc.name, c.Status())
	}
	return 0
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
