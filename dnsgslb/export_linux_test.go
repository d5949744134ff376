package dnsgslb

// The package's tests run background work at niceness 10, never in
// SCHED_IDLE (noIdleClass): TestInBackgroundPriority and the tests of the
// watchdog turn it on for themselves.
func init() { noIdleClass.Store(true) }
