package gslbscale

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
)

// MaxNetworks bounds GeoDB's networks, so that every IPv4 /16 and IPv6 /32
// it lays them out in keeps room for them.
const MaxNetworks = 20_000_000

// plan is the layout of a database: its locations and how networks are
// spread over the address space.
type plan struct {
	n4, n6 int
	places *places
	picker *countryPicker
	v4     []v4Chunk
	r      *rand.Rand
}

func newPlan(networks, locations int, seed uint64) (*plan, error) {
	if networks < 1 || networks > MaxNetworks {
		return nil, fmt.Errorf("networks %d: want 1 to %d", networks, MaxNetworks)
	}
	if locations < 1 || locations > networks {
		return nil, fmt.Errorf("locations %d: want 1 to the number of networks (%d)", locations, networks)
	}
	p := &plan{r: rand.New(rand.NewPCG(seed, 0x6e0db))}
	p.n4 = int(math.Round(float64(networks) * ipv4Fraction))
	p.n6 = networks - p.n4
	if p.n4 == 0 {
		p.n4, p.n6 = 1, networks-1
	}
	p.v4 = v4Chunks()
	var v4Share [registries]float64
	for _, c := range p.v4 {
		v4Share[c.reg] += 1 / float64(len(p.v4))
	}
	p.places = newPlaces(locations, share(v4Share), p.r)
	p.picker = newCountryPicker(p.places)
	return p, nil
}

// each calls emit with every network and its location, IPv4 first, in
// address order (the order an mmdb tree is cheapest to build in).
func (p *plan) each(emit func(netip.Prefix, int32) error) error {
	r := p.r
	prev := int32(-1)
	sp := spread{left: p.n4, chunks: len(p.v4)}
	per := float64(p.n4) / float64(len(p.v4))
	d4 := newPrefixDist(v4Prefixes, 32, 0.85*65536/max(per, 1))
	for _, ch := range p.v4 {
		k := sp.next(r)
		if k == 0 {
			continue
		}
		home := p.picker.draw(ch.reg, r)
		offs, bits := chunkNetworks(k, 16, 32, d4, r)
		for i, off := range offs {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], ch.base+uint32(off))
			loc := p.locate(home, ch.reg, 0.88, 0.98, prev)
			if err := emit(netip.PrefixFrom(netip.AddrFrom4(a), bits[i]), loc); err != nil {
				return err
			}
			prev = loc
		}
	}
	if p.n6 == 0 {
		return nil
	}
	chunks := v6Chunks(p.n6, p.places, r)
	sp = spread{left: p.n6, chunks: len(chunks)}
	d6 := newPrefixDist(v6Prefixes, 64, math.Inf(1))
	for _, ch := range chunks {
		k := sp.next(r)
		if k == 0 {
			continue
		}
		home := p.picker.draw(ch.reg, r)
		offs, bits := chunkNetworks(k, 32, 128, d6, r)
		for i, off := range offs {
			loc := p.locate(home, ch.reg, 0.95, 1, prev)
			if err := emit(v6Prefix(ch.top, off, bits[i]), loc); err != nil {
				return err
			}
			prev = loc
		}
	}
	return nil
}

// locate picks a network's location: in the chunk's home country with
// probability pHome, else in another country of its registry up to pReg,
// else a location no network names yet anywhere (so that small countries'
// locations are in the database too), or any when there is none. Never
// prev, so that neighbouring networks stay apart: the writer merges sibling
// networks with the same record.
func (p *plan) locate(home int, g registry, pHome, pReg float64, prev int32) int32 {
	if len(p.places.recs) == 1 {
		return 0
	}
	c, fresh := home, false
	switch x := p.r.Float64(); {
	case x >= pReg && len(p.places.unused) > 0:
		c, fresh = p.places.unused[p.r.IntN(len(p.places.unused))], true
	case x >= pReg:
		c = p.picker.draw(registries, p.r)
	case x >= pHome:
		c = p.picker.draw(g, p.r)
	}
	for {
		if loc := p.places.pick(c, prev, fresh, p.r); loc >= 0 {
			return loc
		}
		c, fresh = p.picker.draw(registries, p.r), false
	}
}
