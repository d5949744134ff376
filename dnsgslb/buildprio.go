package dnsgslb

// inBackgroundUnless is InBackground, or f called at once when foreground:
// for work the server cannot answer without, which gives way to nothing.
func inBackgroundUnless[T any](foreground bool, f func() T) T {
	if foreground {
		return f()
	}
	return InBackground(f)
}
