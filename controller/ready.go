package controller

import "context"

// awaitAll waits until every channel in loaded is closed. It stops early,
// reporting stop, when ctx ends (err nil) or a part fails (its error).
func awaitAll(ctx context.Context, failed <-chan error, loaded ...<-chan struct{}) (stop bool, err error) {
	for _, ch := range loaded {
		select {
		case <-ch:
		case <-ctx.Done():
			return true, nil
		case err := <-failed:
			return true, err
		}
	}
	return false, nil
}
