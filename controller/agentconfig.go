package controller

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// popConfigs compiles the desired state for every agent stream once per
// state: a compile.Fleet, compiled from the previous one so that a change
// compiles again only the objects it touched. Each stream puts its PoP's
// config together from the Fleet, already encoded, so a change reaching
// thousands of agents costs each little more than copying its bytes.
type popConfigs struct {
	cache *stateCache
	// fleet is the newest Fleet compiled; every stream reads it after a
	// change, so without a lock.
	fleet atomic.Pointer[compile.Fleet]
	// compiling serialises compiling: the first stream to ask after a
	// change compiles, the others wait for its Fleet, which costs less
	// than each compiling its own.
	compiling sync.Mutex
}

func newPopConfigs(cache *stateCache) *popConfigs { return &popConfigs{cache: cache} }

// Current returns the Fleet of the cache's current state and a channel
// closed when that state is replaced.
func (p *popConfigs) Current() (*compile.Fleet, <-chan struct{}) {
	s, changed := p.cache.Current()
	if f := p.fleet.Load(); f != nil && f.CompiledFrom(s) {
		return f, changed
	}
	p.compiling.Lock()
	defer p.compiling.Unlock()
	prev := p.fleet.Load()
	if prev != nil && prev.CompiledFrom(s) {
		return prev, changed
	}
	f := compile.NewFleet(s, prev)
	// A stream that read the state just before it was replaced asks for
	// the older one: compile it for that stream, keep the newer.
	if prev == nil || s.Revision >= prev.Revision() {
		p.fleet.Store(f)
	}
	return f, changed
}

// configStream is one agent stream's view of its PoP's config: what it
// sent last, to send only what changed.
type configStream struct {
	pop string
	// last is the config last sent, encoded without its revision; scratch
	// is the buffer the next one is put together in.
	last, scratch []byte
}

// next returns the message to send for the PoP's config in f under obs,
// or nil when it is what was sent last (whatever the revision). It fails,
// wrapping compile.ErrUnknownPop, when the PoP is not in the desired state.
func (c *configStream) next(f *compile.Fleet, obs compile.Observed) (*v1.ConnectResponse, error) {
	cfg, err := f.AppendPopConfig(c.scratch[:0], c.pop, obs)
	if err != nil {
		return nil, err
	}
	if c.last != nil && bytes.Equal(cfg, c.last) {
		c.scratch = cfg
		return nil, nil
	}
	c.last, c.scratch = cfg, c.last
	return configResponse(cfg, f.Revision()), nil
}

// Field numbers of what configResponse encodes itself.
var (
	connectResponseConfig = fieldNumber(&v1.ConnectResponse{}, "config")
	popConfigRevision     = fieldNumber(&v1.PopConfig{}, "revision")
)

// configResponse is the ConnectResponse carrying the config cfg (a
// PopConfig encoded without its revision) at revision rev. The message
// carries it encoded already, as its unknown fields: encoding writes those
// out as they are, so the agent decodes the config field, and the config
// is not encoded once more for every agent.
func configResponse(cfg []byte, rev int64) *v1.ConnectResponse {
	n := protowire.SizeTag(popConfigRevision) + protowire.SizeVarint(uint64(rev)) + len(cfg)
	b := make([]byte, 0, protowire.SizeTag(connectResponseConfig)+protowire.SizeBytes(n))
	b = protowire.AppendTag(b, connectResponseConfig, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = protowire.AppendTag(b, popConfigRevision, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(rev))
	b = append(b, cfg...)
	m := &v1.ConnectResponse{}
	m.ProtoReflect().SetUnknown(b)
	return m
}

func fieldNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		panic(fmt.Sprintf("%s has no field %s", m.ProtoReflect().Descriptor().FullName(), name))
	}
	return fd.Number()
}
