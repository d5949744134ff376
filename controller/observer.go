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
	mu      sync.Mutex // guards obs, changed and configChanged
	obs     compile.Observed
	changed chan struct{}
	// configChanged is closed when what PoP configs read changes: drain
	// steps and holds, not origin health or RTTs.
	configChanged chan struct{}
}

func newObserver() *observer {
	return &observer{changed: make(chan struct{}), configChanged: make(chan struct{})}
}

// Current returns the observed state and a channel closed when it changes.
// The returned value and its maps must not be mutated.
func (o *observer) Current() (compile.Observed, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.obs, o.changed
}

// ConfigInputs is Current for PoP configs: the channel is closed when the
// drain steps or holds change. Origin health and RTTs shape the GSLB
// snapshot only; waking every agent stream for them put each PoP's config
// together again to find it unchanged, thousands of times per verdict.
func (o *observer) ConfigInputs() (compile.Observed, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.obs, o.configChanged
}

// setHealth replaces the origin verdicts and the RTT matrix.
func (o *observer) setHealth(health map[string]compile.OriginHealth, rtt map[string]map[string]time.Duration) {
	o.update(false, func(obs *compile.Observed) bool {
		if maps.Equal(obs.OriginHealth, health) && reflect.DeepEqual(obs.RTT, rtt) {
			return false
		}
		obs.OriginHealth, obs.RTT = health, rtt
		return true
	})
}

// setDrain replaces the drain steps.
func (o *observer) setDrain(drain map[string]compile.DrainStep) {
	o.update(true, func(obs *compile.Observed) bool {
		if maps.Equal(obs.Drain, drain) {
			return false
		}
		obs.Drain = drain
		return true
	})
}

// setHeld replaces the withdrawal budget's holds.
func (o *observer) setHeld(held map[string][]string) {
	o.update(true, func(obs *compile.Observed) bool {
		if reflect.DeepEqual(obs.Held, held) {
			return false
		}
		obs.Held = held
		return true
	})
}

// update applies f to a copy and publishes it when f reports a change;
// config says whether f changes what PoP configs read.
func (o *observer) update(config bool, f func(*compile.Observed) bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	next := o.obs
	if !f(&next) {
		return
	}
	o.obs = next
	close(o.changed)
	o.changed = make(chan struct{})
	if config {
		close(o.configChanged)
		o.configChanged = make(chan struct{})
	}
}
