package dnsgslb

import "runtime/debug"

// reloadGCPercent is the collector's target (GOGC) while a GeoIP reload
// builds. The old database, table and index are kept until the new ones
// are served, so a reload holds about twice what the server holds
// otherwise (600 MB at City size, 3,000,000 networks in 100,000
// locations, and 5,000 records); at the default GOGC of 100 the heap grew
// to twice that, 1.2 GB of RSS. The heap of a build is mostly large
// pointer-free arrays, so the extra cycles cost little (a cycle marks it
// in tens of milliseconds).
const reloadGCPercent = 25

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
