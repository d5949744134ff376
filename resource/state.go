package resource

import (
	"maps"
	"sort"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// State is a set of desired-state objects at one store revision, indexed by
// kind and name. It is a plain value: the owner decides who may mutate it.
type State struct {
	Revision int64
	Pops     map[string]*v1.Pop
	Services map[string]*v1.AnycastService
	Origins  map[string]*v1.Origin
	Zones    map[string]*v1.GslbZone
	Records  map[string]*v1.GslbRecord
}

// NewState returns a state holding the objects.
func NewState(objs ...*v1.Object) *State {
	s := &State{
		Pops:     map[string]*v1.Pop{},
		Services: map[string]*v1.AnycastService{},
		Origins:  map[string]*v1.Origin{},
		Zones:    map[string]*v1.GslbZone{},
		Records:  map[string]*v1.GslbRecord{},
	}
	for _, o := range objs {
		s.Put(o)
	}
	return s
}

// Put adds or replaces an object.
func (s *State) Put(o *v1.Object) {
	name := Meta(o).GetName()
	switch r := o.GetResource().(type) {
	case *v1.Object_Pop:
		s.Pops[name] = r.Pop
	case *v1.Object_AnycastService:
		s.Services[name] = r.AnycastService
	case *v1.Object_Origin:
		s.Origins[name] = r.Origin
	case *v1.Object_GslbZone:
		s.Zones[name] = r.GslbZone
	case *v1.Object_GslbRecord:
		s.Records[name] = r.GslbRecord
	}
}

// Delete removes an object if present.
func (s *State) Delete(r Ref) {
	switch r.Kind {
	case v1.Kind_KIND_POP:
		delete(s.Pops, r.Name)
	case v1.Kind_KIND_ANYCAST_SERVICE:
		delete(s.Services, r.Name)
	case v1.Kind_KIND_ORIGIN:
		delete(s.Origins, r.Name)
	case v1.Kind_KIND_GSLB_ZONE:
		delete(s.Zones, r.Name)
	case v1.Kind_KIND_GSLB_RECORD:
		delete(s.Records, r.Name)
	}
}

// Get returns the object, or nil.
func (s *State) Get(r Ref) *v1.Object {
	switch r.Kind {
	case v1.Kind_KIND_POP:
		if p, ok := s.Pops[r.Name]; ok {
			return Wrap(p)
		}
	case v1.Kind_KIND_ANYCAST_SERVICE:
		if p, ok := s.Services[r.Name]; ok {
			return Wrap(p)
		}
	case v1.Kind_KIND_ORIGIN:
		if p, ok := s.Origins[r.Name]; ok {
			return Wrap(p)
		}
	case v1.Kind_KIND_GSLB_ZONE:
		if p, ok := s.Zones[r.Name]; ok {
			return Wrap(p)
		}
	case v1.Kind_KIND_GSLB_RECORD:
		if p, ok := s.Records[r.Name]; ok {
			return Wrap(p)
		}
	}
	return nil
}

// Clone returns a state with its own maps; the objects are shared, so
// callers replace objects rather than mutate them.
func (s *State) Clone() *State {
	return &State{
		Revision: s.Revision,
		Pops:     cloneMap(s.Pops),
		Services: cloneMap(s.Services),
		Origins:  cloneMap(s.Origins),
		Zones:    cloneMap(s.Zones),
		Records:  cloneMap(s.Records),
	}
}

// cloneMap copies a map, never returning nil, so the clone takes Put.
func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return maps.Clone(m)
}

// Objects returns every object in kind order, then name order.
func (s *State) Objects() []*v1.Object {
	var out []*v1.Object
	for _, k := range Kinds() {
		out = append(out, s.OfKind(k)...)
	}
	return out
}

// OfKind returns the objects of one kind in name order.
func (s *State) OfKind(k v1.Kind) []*v1.Object {
	var out []*v1.Object
	add := func(names []string) {
		sort.Strings(names)
		for _, n := range names {
			out = append(out, s.Get(Ref{Kind: k, Name: n}))
		}
	}
	switch k {
	case v1.Kind_KIND_POP:
		add(keys(s.Pops))
	case v1.Kind_KIND_ANYCAST_SERVICE:
		add(keys(s.Services))
	case v1.Kind_KIND_ORIGIN:
		add(keys(s.Origins))
	case v1.Kind_KIND_GSLB_ZONE:
		add(keys(s.Zones))
	case v1.Kind_KIND_GSLB_RECORD:
		add(keys(s.Records))
	}
	return out
}

// SortedNames returns the keys of a map in order.
func SortedNames[V any](m map[string]V) []string {
	n := keys(m)
	sort.Strings(n)
	return n
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
