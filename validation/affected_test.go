package validation

import (
	"fmt"
	"math/rand/v2"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// checkApplyWhole is CheckApply as it was before it learned which objects
// an apply affects: the cross-object rules over the whole state before and
// after. TestCheckApplyMatchesWholeState holds CheckApply to it.
func checkApplyWhole(incoming []*v1.Object, existing *resource.State, opts Options) error {
	var errs Errors
	order := map[resource.Ref]int{}
	merged := existing.Clone()
	for i, o := range incoming {
		ref := resource.RefOf(o)
		r := report{ref: ref, order: i, errs: &errs}
		if j, dup := order[ref]; dup {
			r.addf("", "", "applied twice, in documents %d and %d: merge them into one", j+1, i+1)
		} else {
			order[ref] = i
		}
		checkObject(r, o, opts)
		merged.Put(o)
	}
	before := map[string]bool{}
	for _, e := range crossCheck(existing) {
		before[e.Error()] = true
	}
	for _, e := range crossCheck(merged) {
		if i, ok := order[e.Ref]; ok {
			e.order = i
			errs = append(errs, e)
			continue
		}
		if _, ok := order[e.other]; ok || before[e.Error()] {
			continue
		}
		e.order += len(incoming)
		errs = append(errs, e)
	}
	sortErrors(errs)
	return errs.asError()
}

// TestCheckApplyMatchesWholeState applies random changes to the fixture's
// objects (regions, selectors, names, zones, candidates, prefixes, new
// objects) against random variants of it, and expects exactly the errors
// of the whole-state check.
func TestCheckApplyMatchesWholeState(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	mutate := func(m proto.Message) proto.Message {
		m = proto.Clone(m)
		switch x := m.(type) {
		case *v1.Pop:
			if rng.IntN(2) == 0 {
				x.Spec.Location.Region = pick("apac", "emea", "americas", "mars", "")
			}
			if rng.IntN(4) == 0 {
				x.Metadata.Name = pick("lima", "oslo", "tokyo")
			}
			if rng.IntN(4) == 0 {
				x.Spec.UnicastAddresses = []string{"198.51.100.99"}
			}
		case *v1.AnycastService:
			switch rng.IntN(4) {
			case 0:
				x.Spec.Pops = &v1.PopSelector{Regions: []string{pick("apac", "emea", "mars")}}
			case 1:
				x.Spec.Pops = &v1.PopSelector{Names: []string{pick("tokyo", "lima", "oslo")}, Regions: []string{pick("emea", "mars")}}
			case 2:
				x.Spec.Prefixes = []string{pick("192.0.2.0/24", "203.0.113.0/25", "2001:db8:53::/48")}
			}
			x.Spec.MinAnnouncingPops = uint32(rng.IntN(6))
			if rng.IntN(4) == 0 {
				x.Metadata.Name = pick("edge-new", "edge-dns", "edge-http")
			}
		case *v1.Origin:
			if rng.IntN(3) == 0 {
				x.Metadata.Name = pick("ams", "fra", "sin")
			}
			if rng.IntN(2) == 0 {
				x.Spec.Addresses = []string{pick("198.51.100.7", "2001:db8::7")}
			}
		case *v1.GslbZone:
			if rng.IntN(2) == 0 {
				x.Spec.Zone = pick("gslb.example.com.", "other.example.com.", "example.com.")
			}
			if rng.IntN(3) == 0 {
				x.Metadata.Name = pick("gslb2", "gslb")
			}
			if rng.IntN(3) == 0 {
				x.Spec.Records = append(x.Spec.Records, &v1.StaticRecord{Name: pick("origin", "api", "edge"), Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"198.51.100.1"}})
			}
		case *v1.GslbRecord:
			if rng.IntN(3) == 0 {
				x.Spec.Zone = pick("gslb", "gslb2", "nowhere")
			}
			if rng.IntN(3) == 0 {
				x.Spec.Name = pick("origin", "api", "edge", "assets.gslb.example.com.")
			}
			if rng.IntN(3) == 0 && x.Spec.Pops == nil {
				x.Spec.Origins = []string{pick("fra", "ams", "sin"), pick("iad", "sin")}
			}
			if rng.IntN(4) == 0 {
				x.Spec.Origins, x.Spec.Pops = nil, &v1.PopSelector{Regions: []string{pick("apac", "emea", "mars")}}
			}
			if rng.IntN(4) == 0 {
				x.Metadata.Name = pick("api", "edge", "new-rec")
			}
		}
		return m
	}
	var differ int
	for i := range 3000 {
		msgs := newFixture().messages()
		var existing []proto.Message
		for _, m := range msgs {
			switch rng.IntN(5) {
			case 0: // absent
			case 1:
				existing = append(existing, mutate(m))
			default:
				existing = append(existing, m)
			}
		}
		var incoming []*v1.Object
		for range 1 + rng.IntN(3) {
			incoming = append(incoming, resource.Wrap(mutate(msgs[rng.IntN(len(msgs))])))
		}
		st := resource.NewState(wrap(existing...)...)
		want := errString(checkApplyWhole(incoming, st, testOpts))
		got := errString(CheckApply(incoming, st, testOpts))
		if got != want {
			differ++
			if differ <= 3 {
				t.Errorf("case %d: incoming %v\n got: %s\nwant: %s", i, refs(incoming), got, want)
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of 3000 cases differ", differ)
	}
}

func refs(objs []*v1.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprint(resource.RefOf(o)))
	}
	return out
}
