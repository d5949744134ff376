package dnsgslb

import "runtime/debug"

// reloadGCPercent is the collector's target (GOGC) while a GeoIP reload
// builds. The old database, table and index are kept until the new ones
// are served, so a reload holds about twice what the server holds
// otherwise (630 MB at City size, 3,000,000 networks in 100,000
// locations, and 5,000 records); at the default GOGC of 100 the heap grew
// to twice that, 1.2 GB of RSS, and at 25 to 810 MB (RSS 930-1,005 MiB).
// The heap of a build is mostly large pointer-free arrays, so the extra
// cycles cost little: a cycle takes 50-120 ms of CPU, and the reload's
// CPU did not move measurably (dnsscale: 5.6-5.8 s at 10 and at 25; peak
// RSS 814 MiB at 10).
const reloadGCPercent = 10

// collectTightly sets the collector's target to reloadGCPercent until the
// function it returns is called, unless GOGC is lower or off already.
func collectTightly() (restore func()) {
	was := debug.SetGCPercent(reloadGCPercent)
	if was <= reloadGCPercent {
		debug.SetGCPercent(was)
		return func() {}
	}
	return func() { debug.SetGCPercent(was) }
}
