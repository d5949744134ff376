package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// decodeSent encodes msg as gRPC does and decodes it as the agent does.
func decodeSent(t *testing.T, msg *v1.ConnectResponse) *v1.PopConfig {
	t.Helper()
	codec := encoding.GetCodecV2(protocodec.Name)
	b, err := codec.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	got := &v1.ConnectResponse{}
	if err := codec.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	if len(got.ProtoReflect().GetUnknown()) != 0 || got.GetConfig() == nil {
		t.Fatalf("the agent decodes %v, want a config and nothing else", got)
	}
	return got.GetConfig()
}

// TestConfigStreamSendsWhatChanged: each message decodes to the compiled
// config at the Fleet's revision, and a stream sends again only when its
// PoP's config changed.
func TestConfigStreamSendsWhatChanged(t *testing.T) {
	var objs []*v1.Object
	for i := range 20 {
		objs = append(objs, resource.Wrap(validationtest.Pop(i)))
	}
	for i := range 4 {
		objs = append(objs, resource.Wrap(validationtest.Service(i)))
	}
	s := resource.NewState(objs...)
	s.Revision = 10
	pop := validationtest.PopName(3) // region-3: services 0 and 2 (every PoP) and 3 (its region)
	cs := &configStream{pop: pop}
	f := compile.NewFleet(s, nil)
	obs := compile.Observed{}

	step := func(what string, wantSend bool) {
		t.Helper()
		msg, err := cs.next(f, obs)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if (msg != nil) != wantSend {
			t.Fatalf("%s: sends a config: %v, want %v", what, msg != nil, wantSend)
		}
		if msg == nil {
			return
		}
		want, err := compile.PopConfig(s, pop, obs)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeSent(t, msg); !proto.Equal(got, want) {
			t.Fatalf("%s: the agent gets\n%v\nwant the compiled config\n%v", what, got, want)
		}
	}
	change := func(svc int, interval time.Duration) {
		t.Helper()
		next := s.Clone()
		o := validationtest.Service(svc)
		o.Spec.HealthCheck.Interval = durationpb.New(interval)
		next.Put(resource.Wrap(o))
		next.Revision = s.Revision + 1
		s, f = next, compile.NewFleet(next, f)
	}

	step("first config", true)
	step("the same Fleet again", false)
	change(1, 7*time.Second) // region-1 only
	step("a change to a service the PoP does not carry", false)
	change(3, 9*time.Second)
	step("a change to one of its services", true)
	obs = compile.Observed{Drain: map[string]compile.DrainStep{pop: compile.DrainGracefulShutdown}}
	step("the PoP draining", true)
	obs = compile.Observed{Drain: map[string]compile.DrainStep{pop: compile.DrainGracefulShutdown}, Held: map[string][]string{"svc-00002": {validationtest.PopName(4)}}}
	step("another PoP held", false)
	obs.Held = map[string][]string{"svc-00002": {pop}}
	step("the PoP held", true)

	if _, err := (&configStream{pop: "atlantis"}).next(f, obs); err == nil {
		t.Error("a PoP not in the desired state gets a config")
	}
}

// TestPopConfigsCompilesOncePerState: every stream asking after a change
// gets the one Fleet of the new state.
func TestPopConfigsCompilesOncePerState(t *testing.T) {
	h := newHarness(t, popObject("ams"), popObject("fra"))
	h.runCache()
	awaitClosed(t, "the desired state loaded", h.cache.Ready())
	p := newPopConfigs(h.cache)
	first, changed := p.Current()
	if again, _ := p.Current(); again != first {
		t.Fatal("a second stream got another Fleet of the same state")
	}
	if _, err := h.st.Apply(context.Background(), []*v1.Object{popObject("sin")}, false, nil); err != nil {
		t.Fatal(err)
	}
	awaitClosed(t, "the state replaced", changed)
	got := make([]*compile.Fleet, 50)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i], _ = p.Current() })
	}
	wg.Wait()
	for _, f := range got {
		if f != got[0] {
			t.Fatal("streams asking at once after a change got different Fleets")
		}
	}
	if got[0].Revision() <= first.Revision() {
		t.Fatalf("after the change: Fleet of revision %d, want after %d", got[0].Revision(), first.Revision())
	}
	if _, err := got[0].AppendPopConfig(nil, "sin", compile.Observed{}); err != nil {
		t.Fatalf("the new Fleet lacks the PoP added: %v", err)
	}
}
