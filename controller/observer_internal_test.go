package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
)

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestAgentStreamsSleepThroughOriginHealth: origin verdicts and RTTs,
// which only the GSLB snapshot reads, do not wake the agent streams (each
// would put its PoP's config together again to find it unchanged; see
// BenchmarkAgentStreamsOnHealthChange); drain steps and holds, which PoP
// configs read, do. The GSLB feed wakes for all of them.
func TestAgentStreamsSleepThroughOriginHealth(t *testing.T) {
	o := newObserver()
	_, config := o.ConfigInputs()
	_, all := o.Current()
	o.setHealth(map[string]compile.OriginHealth{"fra": {Healthy: false, Reason: "down"}}, map[string]map[string]time.Duration{"tokyo": {"fra": time.Millisecond}})
	if isClosed(config) {
		t.Error("an origin verdict woke the agent streams")
	}
	if !isClosed(all) {
		t.Error("an origin verdict did not wake the GSLB feed")
	}
	o.setDrain(map[string]compile.DrainStep{"tokyo": compile.DrainGslb})
	if !isClosed(config) {
		t.Error("a drain did not wake the agent streams")
	}
	_, config = o.ConfigInputs()
	o.setHeld(map[string][]string{"edge-dns": {"tokyo"}})
	if !isClosed(config) {
		t.Error("a hold did not wake the agent streams")
	}
}

// BenchmarkAgentStreamsOnHealthChange is the work an origin verdict
// change made when it woke every agent stream: 3,000 PoPs over 100
// services, each stream putting its PoP's config together and comparing
// it with the one it sent, to find it unchanged.
func BenchmarkAgentStreamsOnHealthChange(b *testing.B) {
	var objs []*v1.Object
	for i := range 3000 {
		objs = append(objs, resource.Wrap(validationtest.Pop(i)))
	}
	for i := range 100 {
		objs = append(objs, resource.Wrap(validationtest.Service(i)))
	}
	s := resource.NewState(objs...)
	s.Revision = 1
	f := compile.NewFleet(s, nil)
	names := resource.SortedNames(s.Pops)
	streams := make([]*configStream, len(names))
	for i, pop := range names {
		streams[i] = &configStream{pop: pop}
		if _, err := streams[i].next(f, compile.Observed{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		obs := compile.Observed{OriginHealth: map[string]compile.OriginHealth{"fra": {Healthy: i%2 == 0, Reason: fmt.Sprint(i)}}}
		for _, cs := range streams {
			if msg, err := cs.next(f, obs); err != nil || msg != nil {
				b.Fatalf("%s: %v, %v; want the config unchanged", cs.pop, msg, err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/change")
}
