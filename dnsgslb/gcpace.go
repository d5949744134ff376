package dnsgslb

import (
	"runtime/debug"
	rtmetrics "runtime/metrics"
)

// A GeoIP reload keeps the old database, table and index until the new
// ones are served, so it holds about twice what the server holds
// otherwise: 630 MB at City size (3,000,000 networks in 100,000
// locations) and 5,000 records, where the server holds 330 MB. At the
// default GOGC of 100 the collector lets the heap grow to twice what is
// live, and the reload's RSS peaked at 1.2 GiB. While a reload builds, a
// soft memory limit of reloadHeadroom times the heap live before it, plus
// reloadSlack, makes the collector run as the heap nears that bound, and
// only then. dnsscale under 10,000 QPS: peak RSS 807 MiB and 11.7-12.5 s
// of the process's CPU over the reload (the answers included), against
// 1,220-1,251 MiB and 9.1-10.1 s at GOGC 100, and 825-835 MiB and
// 12.1-13.9 s at GOGC 10, which collects all along, also while little is
// live.
const (
	reloadHeadroom = 2.2
	reloadSlack    = 64 << 20
	// reloadFloor is the least limit set, for a small server.
	reloadFloor = 256 << 20
)

// collectTightly sets the soft memory limit for a reload (see
// reloadHeadroom) until the function it returns is called, unless a lower
// one is set (GOMEMLIMIT), or no collection has measured the live heap
// yet.
func collectTightly() (restore func()) {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 || s[0].Value.Uint64() == 0 {
		return func() {}
	}
	live := float64(s[0].Value.Uint64())
	limit := int64(max(live*reloadHeadroom+reloadSlack, reloadFloor))
	was := debug.SetMemoryLimit(-1) // reads it
	if was <= limit {
		return func() {}
	}
	debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(was) }
}
