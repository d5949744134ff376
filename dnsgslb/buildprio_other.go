//go:build !linux

package dnsgslb

// inBackground runs f; only Linux lowers the priority of one thread.
func inBackground[T any](f func() T) T { return f() }

// servingThread does nothing: only Linux gives a thread a short slice.
func servingThread() (restore func()) { return func() {} }
