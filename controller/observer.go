package controller

import (
	"maps"
	"reflect"
	"sync"
	"time"

	"github.com/anyctl/anyctl/compile"
)

// observer holds the fleet's observed state that shapes compiled output
// (drain steps, origin health, RTTs) and tells waiters when it changes. Its
// parts are set by their own owners: the status watcher sets health and
// RTTs, the drain sequencer sets drain steps.
type observer struct {
	mu      sync.Mutex // guards obs and changed
	obs     compile.Observed
	changed chan struct{}
}

func newObserver() *observer { return &observer{changed: make(chan struct{})} }

// Current returns the observed state and a channel closed when it changes.
// The returned value and its maps must not be mutated.
func (o *observer) Current() (compile.Observed, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.obs, o.changed
}

// setHealth replaces the origin verdicts and the RTT matrix.
func (o *observer) setHealth(health map[string]compile.OriginHealth, rtt map[string]map[string]time.Duration) {
	o.update(func(obs *compile.Observed) bool {
		if maps.Equal(obs.OriginHealth, health) && reflect.DeepEqual(obs.RTT, rtt) {
			return false
		}
		obs.OriginHealth, obs.RTT = health, rtt
		return true
	})
}

// setDrain replaces the drain steps.
func (o *observer) setDrain(drain map[string]compile.DrainStep) {
	o.update(func(obs *compile.Observed) bool {
		if maps.Equal(obs.Drain, drain) {
			return false
		}
		obs.Drain = drain
		return true
	})
}

// setHeld replaces the withdrawal budget's holds.
func (o *observer) setHeld(held map[string][]string) {
	o.update(func(obs *compile.Observed) bool {
		if reflect.DeepEqual(obs.Held, held) {
			return false
		}
		obs.Held = held
		return true
	})
}

// update applies f to a copy and publishes it when f reports a change.
func (o *observer) update(f func(*compile.Observed) bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	next := o.obs
	if !f(&next) {
		return
	}
	o.obs = next
	close(o.changed)
	o.changed = make(chan struct{})
}
