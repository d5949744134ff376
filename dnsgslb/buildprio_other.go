//go:build !linux

package dnsgslb

// InBackground runs f; only Linux lowers the priority of one thread.
func InBackground[T any](f func() T) T { return f() }

// servingThread does nothing: only Linux gives a thread a short slice.
func servingThread() (restore func()) { return func() {} }
