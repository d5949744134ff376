package compile

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/anyctl/anyctl/resource"
)

// fleetConfig decodes what f puts together for pop.
func fleetConfig(t *testing.T, f *Fleet, pop string, obs Observed) (*v1.PopConfig, []byte) {
	t.Helper()
	b, err := f.AppendPopConfig(nil, pop, obs)
	if err != nil {
		t.Fatalf("AppendPopConfig(%q): %v", pop, err)
	}
	cfg := &v1.PopConfig{}
	if err := proto.Unmarshal(b, cfg); err != nil {
		t.Fatalf("AppendPopConfig(%q) does not decode: %v", pop, err)
	}
	return cfg, b
}

// withoutRevision returns a copy of cfg with the revision unset.
func withoutRevision(cfg *v1.PopConfig) *v1.PopConfig {
	c := proto.Clone(cfg).(*v1.PopConfig)
	c.Revision = 0
	return c
}

func TestFleetMatchesPopConfigs(t *testing.T) {
	s, obs := fleetState(), fleetObserved()
	obs.Held = map[string][]string{"web": {"ams", "nrt"}, "resolver": {"sin"}}
	f := NewFleet(s, nil)
	if f.Revision() != s.Revision || !f.CompiledFrom(s) || f.CompiledFrom(fleetState()) {
		t.Fatalf("Revision %d, CompiledFrom(s) %v; want %d, true", f.Revision(), f.CompiledFrom(s), s.Revision)
	}
	for name, want := range PopConfigs(s, obs) {
		got, _ := fleetConfig(t, f, name, obs)
		if want := withoutRevision(want); !proto.Equal(got, want) {
			t.Errorf("PoP %q: the Fleet's config differs from PopConfigs':\n got %v\nwant %v", name, got, want)
		}
	}
}

func TestFleetUnknownPop(t *testing.T) {
	b, err := NewFleet(fleetState(), nil).AppendPopConfig([]byte("x"), "gone", Observed{})
	if !errors.Is(err, ErrUnknownPop) || !strings.Contains(err.Error(), `"gone"`) {
		t.Fatalf("AppendPopConfig of a missing PoP: %v; want ErrUnknownPop naming it", err)
	}
	if string(b) != "x" {
		t.Errorf("AppendPopConfig of a missing PoP appended %q", b[1:])
	}
}

// TestFleetReusesUnchanged shows that a change recompiles only what it
// touched: the other services, the PoPs and the probes are the previous
// Fleet's.
func TestFleetReusesUnchanged(t *testing.T) {
	s := fleetState()
	prev := NewFleet(s, nil)
	next := s.Clone()
	web := proto.Clone(next.Services["web"]).(*v1.AnycastService)
	web.Spec.HealthCheck.Interval = durationpb.New(7 * time.Second)
	next.Put(resource.Wrap(web))
	next.Revision++
	f := NewFleet(next, prev)
	for name, fs := range f.byName {
		if reused := fs == prev.byName[name]; reused != (name != "web") {
			t.Errorf("service %q: reused %v", name, reused)
		}
	}
	for name, fp := range f.pops {
		if fp != prev.pops[name] {
			t.Errorf("PoP %q compiled again, though unchanged", name)
		}
	}
	if len(f.probes) == 0 || &f.probes[0] != &prev.probes[0] {
		t.Error("origin probes compiled again, though no origin or record changed")
	}
}

// TestFleetIncrementalMatchesFullCompile applies random changes to the
// desired and observed state, one after another, and checks after each
// that the Fleet compiled from the previous one gives every PoP what a
// full compile does, and gives a PoP whose config did not change the same
// bytes as before (agent streams send only configs whose bytes changed).
func TestFleetIncrementalMatchesFullCompile(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	regions := []string{"emea", "apac", "nam", "latam", ""}
	popNames := []string{"ams", "fra", "lhr", "nrt", "sin", "iad", "sjc", "gru", "jnb"}
	selector := func() *v1.PopSelector {
		switch rng.IntN(4) {
		case 0:
			return &v1.PopSelector{All: true}
		case 1:
			return &v1.PopSelector{Regions: []string{pick(regions...), pick(regions...)}}
		case 2:
			return &v1.PopSelector{Names: []string{pick(popNames...), pick(popNames...)}}
		}
		return &v1.PopSelector{Names: []string{pick(popNames...)}, Regions: []string{pick(regions...)}}
	}
	change := func(s *resource.State) {
		switch rng.IntN(8) {
		case 0: // a PoP changes or appears
			name := pick(popNames...)
			p := &v1.Pop{Metadata: meta(name), Spec: &v1.PopSpec{Location: &v1.Location{}, LocalAsn: 64512, RouterId: "10.255.1.1"}}
			if old, ok := s.Pops[name]; ok {
				p = proto.Clone(old).(*v1.Pop)
			}
			p.Spec.Location.Region = pick(regions...)
			p.Spec.Maintenance = rng.IntN(4) == 0
			p.Spec.Peers = []*v1.BgpPeer{{Address: pick("10.0.0.1", "2001:db8::1"), PeerAsn: uint32(64496 + rng.IntN(3))}}
			s.Put(resource.Wrap(p))
		case 1: // a PoP goes
			delete(s.Pops, pick(popNames...))
		case 2, 3: // a service changes or appears
			name := pick("web", "resolver", "api", "video", "latam", "new")
			svc := &v1.AnycastService{Metadata: meta(name), Spec: &v1.AnycastServiceSpec{Prefixes: []string{"198.51.100.0/24"}}}
			if old, ok := s.Services[name]; ok {
				svc = proto.Clone(old).(*v1.AnycastService)
			}
			switch rng.IntN(4) {
			case 0:
				svc.Spec.Pops = selector()
			case 1:
				svc.Spec.HealthCheck = &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP, Interval: durationpb.New(time.Duration(1+rng.IntN(5)) * time.Second)}
			case 2:
				svc.Spec.OnControllerLoss = v1.ControllerLossBehavior(rng.IntN(3))
			default:
				svc.Spec.Prefixes = []string{pick("192.0.2.0/24", "2001:db8:53::/48", "203.0.113.0/25")}
			}
			s.Put(resource.Wrap(svc))
		case 4: // a service goes
			delete(s.Services, pick("web", "resolver", "api", "video", "latam", "new"))
		case 5: // an origin changes or goes
			name := pick("origin-eu", "origin-us", "origin-ap", "origin-spare")
			o, ok := s.Origins[name]
			if !ok || rng.IntN(3) == 0 {
				delete(s.Origins, name)
				break
			}
			o = proto.Clone(o).(*v1.Origin)
			o.Spec.Addresses = []string{pick("198.18.10.9", "2001:db8:e0::9")}
			s.Put(resource.Wrap(o))
		case 6: // a record changes its origins
			name := pick("origin", "origin-v6", "new-record")
			r := &v1.GslbRecord{Metadata: meta(name), Spec: &v1.GslbRecordSpec{Zone: "gslb", Name: name, Type: v1.RecordType_RECORD_TYPE_A}}
			if old, ok := s.Records[name]; ok {
				r = proto.Clone(old).(*v1.GslbRecord)
			}
			r.Spec.Origins = []string{pick("origin-eu", "origin-us", "origin-ap", "origin-spare", "origin-gone")}
			s.Put(resource.Wrap(r))
		default: // nothing the agents see: a zone
			z := proto.Clone(s.Zones["gslb"]).(*v1.GslbZone)
			z.Spec.DefaultTtl = uint32(10 + rng.IntN(50))
			s.Put(resource.Wrap(z))
		}
	}
	observe := func() Observed {
		obs := Observed{Drain: map[string]DrainStep{}, Held: map[string][]string{}}
		for range rng.IntN(3) {
			obs.Drain[pick(popNames...)] = DrainStep(rng.IntN(4))
		}
		for range rng.IntN(3) {
			svc := pick("web", "resolver", "api", "video", "new")
			obs.Held[svc] = append(obs.Held[svc], pick(popNames...))
		}
		return obs
	}

	s, obs := fleetState(), fleetObserved()
	f := NewFleet(s, nil)
	prevWant := PopConfigs(s, obs)
	prevBytes := map[string][]byte{}
	for name := range s.Pops {
		_, prevBytes[name] = fleetConfig(t, f, name, obs)
	}
	var changedPops, samePops int
	for i := range 1000 {
		next := s.Clone()
		for range 1 + rng.IntN(3) {
			change(next)
		}
		next.Revision++
		if rng.IntN(3) == 0 {
			obs = observe()
		}
		f = NewFleet(next, f)
		want := PopConfigs(next, obs)
		gotBytes := map[string][]byte{}
		for _, name := range resource.SortedNames(next.Pops) {
			got, b := fleetConfig(t, f, name, obs)
			gotBytes[name] = b
			if w := withoutRevision(want[name]); !proto.Equal(got, w) {
				t.Fatalf("change %d, PoP %q: the incremental Fleet's config differs from a full compile:\n got %v\nwant %v", i, name, got, w)
			}
			if full, _ := fleetConfig(t, NewFleet(next, nil), name, obs); !proto.Equal(full, got) {
				t.Fatalf("change %d, PoP %q: a Fleet compiled afresh differs from the incremental one:\n got %v\nwant %v", i, name, full, got)
			}
			old, ok := prevWant[name]
			switch {
			case !ok:
			case proto.Equal(withoutRevision(old), withoutRevision(want[name])):
				samePops++
				if !bytes.Equal(b, prevBytes[name]) {
					t.Fatalf("change %d, PoP %q: the config did not change but its bytes did", i, name)
				}
			default:
				changedPops++
			}
		}
		s, prevWant, prevBytes = next, want, gotBytes
	}
	// The changes must exercise both outcomes.
	if changedPops < 500 || samePops < 500 {
		t.Errorf("over the changes %d PoP configs changed and %d did not; the test needs many of each", changedPops, samePops)
	}
}
