package index

import (
	"runtime"
	"sync"
)

// minSplit is the fewest classes worth a goroutine of their own.
const minSplit = 1024

// split runs f over [0, n): in one piece, or, when the build may use every
// processor (Options.Concurrent), in one piece per processor at once. It
// returns the pieces' results in order, or the first piece's error.
func split[T any](b *builder, n int, f func(lo, hi int) (T, error)) ([]T, error) {
	pieces := 1
	if b.concurrent {
		pieces = max(1, min(runtime.GOMAXPROCS(0), n/minSplit))
	}
	out := make([]T, pieces)
	errs := make([]error, pieces)
	var wg sync.WaitGroup
	for i := range pieces {
		lo, hi := n*i/pieces, n*(i+1)/pieces
		if i == pieces-1 {
			out[i], errs[i] = f(lo, hi)
			break
		}
		wg.Go(func() { out[i], errs[i] = f(lo, hi) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
