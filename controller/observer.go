package controller

import (
	"sync"

	"github.com/anyctl/anyctl/compile"
)

// observer holds the fleet's observed state that shapes compiled output
// (drain steps, origin health, RTTs) and tells waiters when it changes.
type observer struct {
	mu      sync.Mutex // guards obs and changed
	obs     compile.Observed
	changed chan struct{}
}

func newObserver() *observer { return &observer{changed: make(chan struct{})} }

// Current returns the observed state and a channel closed when it changes.
// The returned value must not be mutated.
func (o *observer) Current() (compile.Observed, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.obs, o.changed
}

// Set replaces the observed state and wakes waiters.
func (o *observer) Set(obs compile.Observed) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.obs = obs
	close(o.changed)
	o.changed = make(chan struct{})
}
