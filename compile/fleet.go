package compile

import (
	"fmt"
	"maps"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/anyctl/anyctl/resource"
)

// Fleet is the desired state compiled for every PoP's agent at once, for a
// controller that serves thousands of them. What PoPs share is compiled
// and encoded once: each service's assignment (all of it but the PoP's
// announce mode, drain prepend and budget hold), each PoP's own fields and
// the origin probes. A PoP's config is then put together from those
// encoded pieces (AppendPopConfig), which costs copying bytes.
//
// NewFleet given the previous Fleet compiles again only the objects that
// changed: an object the new state holds as the very same message (a
// resource.State clone shares every object it did not replace) is taken
// from the previous Fleet as compiled.
//
// A Fleet is immutable and safe for concurrent use.
type Fleet struct {
	state    *resource.State
	services []*fleetService // in name order
	byName   map[string]*fleetService
	pops     map[string]*fleetPop
	// regions[r] lists, as indexes into services, the services a PoP of
	// region r carries when no selector names it; regions[""] serves the
	// PoPs without a region.
	regions map[string][]int
	// named holds the PoPs some service's selector names: their services
	// are picked one by one.
	named map[string]struct{}
	// probes is every origin probe, encoded as PopConfig.origin_probes
	// fields; probesErr says why they could not be.
	probes    []byte
	probesErr error
}

// fleetService is one service compiled for any PoP.
type fleetService struct {
	// src is the object compiled; the next Fleet reuses this compilation
	// while its state holds the same object.
	src  *v1.AnycastService
	name string
	sel  selector
	// head is the ServiceAssignment without mode, on_controller_loss,
	// drain_prepend and budget_hold, encoded; onLoss is its
	// on_controller_loss.
	head   []byte
	onLoss v1.ControllerLossBehavior
	// err says why the assignment could not be encoded.
	err error
}

// fleetPop is one PoP's own part of its config.
type fleetPop struct {
	src *v1.Pop
	// head is the PopConfig with the PoP's own fields only (name, ASN,
	// router ID, peers with defaults, next hops), encoded.
	head []byte
	// err says why the PoP's fields could not be encoded.
	err error
}

// Field numbers of what AppendPopConfig encodes itself.
var (
	popConfigServices  = fieldNumber(&v1.PopConfig{}, "services")
	assignmentMode     = fieldNumber(&v1.ServiceAssignment{}, "mode")
	assignmentOnLoss   = fieldNumber(&v1.ServiceAssignment{}, "on_controller_loss")
	assignmentPrepend  = fieldNumber(&v1.ServiceAssignment{}, "drain_prepend")
	assignmentHoldFlag = fieldNumber(&v1.ServiceAssignment{}, "budget_hold")
)

func fieldNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		panic(fmt.Sprintf("%s has no field %s", m.ProtoReflect().Descriptor().FullName(), name))
	}
	return fd.Number()
}

// NewFleet compiles s for every PoP, reusing from prev (nil for none)
// whatever s holds unchanged.
func NewFleet(s *resource.State, prev *Fleet) *Fleet {
	f := &Fleet{
		state:   s,
		byName:  make(map[string]*fleetService, len(s.Services)),
		pops:    make(map[string]*fleetPop, len(s.Pops)),
		regions: map[string][]int{},
		named:   map[string]struct{}{},
	}
	if prev == nil {
		prev = &Fleet{state: resource.NewState()}
	}
	for _, name := range resource.SortedNames(s.Services) {
		src := s.Services[name]
		fs := prev.byName[name]
		if fs == nil || fs.src != src {
			fs = compileFleetService(name, src)
		}
		f.services = append(f.services, fs)
		f.byName[name] = fs
		for pop := range fs.sel.names {
			f.named[pop] = struct{}{}
		}
	}
	for name, p := range s.Pops {
		fp := prev.pops[name]
		if fp == nil || fp.src != p {
			fp = compileFleetPop(name, p)
		}
		f.pops[name] = fp
		region := p.GetSpec().GetLocation().GetRegion()
		if _, ok := f.regions[region]; !ok {
			f.regions[region] = f.regionServices(region)
		}
	}
	// The probes come from the records and origins alone: while each is
	// the same object, so are they.
	if maps.Equal(s.Records, prev.state.Records) && maps.Equal(s.Origins, prev.state.Origins) {
		f.probes, f.probesErr = prev.probes, prev.probesErr
	} else {
		f.probes, f.probesErr = marshal(&v1.PopConfig{OriginProbes: originProbes(s)})
	}
	return f
}

// Revision is the store revision of the state the Fleet was compiled from.
func (f *Fleet) Revision() int64 { return f.state.Revision }

// CompiledFrom reports whether the Fleet was compiled from s itself.
func (f *Fleet) CompiledFrom(s *resource.State) bool { return f.state == s }

// AppendPopConfig appends the config of one PoP, encoded as a PopConfig
// message, to b. The revision is left unset: configs of two revisions
// compare equal byte for byte when nothing of the PoP's changed, and the
// caller stamps the revision (Revision) on what it sends. It decodes to
// what PopConfig compiles, the revision aside. It fails only when the PoP
// does not exist.
func (f *Fleet) AppendPopConfig(b []byte, pop string, obs Observed) ([]byte, error) {
	fp, ok := f.pops[pop]
	if !ok {
		return b, fmt.Errorf("compile config of Pop %q at revision %d: %w", pop, f.Revision(), ErrUnknownPop)
	}
	if fp.err != nil {
		return b, fmt.Errorf("compile config of Pop %q at revision %d: %w", pop, f.Revision(), fp.err)
	}
	if f.probesErr != nil {
		return b, fmt.Errorf("compile config of Pop %q at revision %d: origin probes: %w", pop, f.Revision(), f.probesErr)
	}
	b = append(b, fp.head...)
	mode := announceMode(fp.src, obs.Drain[pop])
	var prepend uint64
	if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
		prepend = DrainPrepend
	}
	var err error
	add := func(fs *fleetService) {
		if fs.err != nil {
			err = fmt.Errorf("compile config of Pop %q at revision %d: AnycastService %q: %w", pop, f.Revision(), fs.name, fs.err)
			return
		}
		var hold uint64
		if obs.held(fs.name, pop) {
			hold = 1
		}
		n := len(fs.head) + varintFieldSize(assignmentMode, uint64(mode)) + varintFieldSize(assignmentOnLoss, uint64(fs.onLoss)) +
			varintFieldSize(assignmentPrepend, prepend) + varintFieldSize(assignmentHoldFlag, hold)
		b = protowire.AppendTag(b, popConfigServices, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		b = append(b, fs.head...)
		b = appendVarintField(b, assignmentMode, uint64(mode))
		b = appendVarintField(b, assignmentOnLoss, uint64(fs.onLoss))
		b = appendVarintField(b, assignmentPrepend, prepend)
		b = appendVarintField(b, assignmentHoldFlag, hold)
	}
	if _, named := f.named[pop]; named {
		p := fp.src
		for _, fs := range f.services {
			if fs.sel.picks(pop, p) {
				add(fs)
			}
		}
	} else {
		for _, i := range f.regions[fp.src.GetSpec().GetLocation().GetRegion()] {
			add(f.services[i])
		}
	}
	if err != nil {
		return b, err
	}
	return append(b, f.probes...), nil
}

// regionServices lists, as indexes into f.services, the services a PoP of
// region carries when no selector names it.
func (f *Fleet) regionServices(region string) []int {
	var out []int
	for i, fs := range f.services {
		if _, ok := fs.sel.regions[region]; fs.sel.all || (region != "" && ok) {
			out = append(out, i)
		}
	}
	return out
}

func compileFleetService(name string, src *v1.AnycastService) *fleetService {
	spec := src.GetSpec()
	a := serviceAssignment(name, spec)
	onLoss := a.OnControllerLoss
	a.OnControllerLoss = v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_UNSPECIFIED
	head, err := marshal(a)
	return &fleetService{src: src, name: name, sel: newSelector(spec.GetPops()), head: head, onLoss: onLoss, err: err}
}

func compileFleetPop(name string, p *v1.Pop) *fleetPop {
	spec := p.GetSpec()
	cfg := &v1.PopConfig{
		Pop:         name,
		LocalAsn:    spec.GetLocalAsn(),
		RouterId:    spec.GetRouterId(),
		NextHopIpv4: spec.GetNextHopIpv4(),
		NextHopIpv6: spec.GetNextHopIpv6(),
	}
	for _, peer := range spec.GetPeers() {
		cfg.Peers = append(cfg.Peers, peerWithDefaults(peer))
	}
	head, err := marshal(cfg)
	return &fleetPop{src: p, head: head, err: err}
}

// marshal encodes a message compiled here. It holds no map, so the
// encoding is the same every time; only a string that is not UTF-8 fails
// it, which decoding refuses before any object reaches a state.
func marshal(m proto.Message) ([]byte, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return b, nil
}

// appendVarintField appends field num with value v, or nothing for 0, as
// proto3 encodes an implicit-presence scalar.
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// varintFieldSize is the size appendVarintField appends.
func varintFieldSize(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}
