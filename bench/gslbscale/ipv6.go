package gslbscale

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/netip"
)

// registryV6 is the first 16 bits of each registry's /12 of global unicast
// space (2400::/12 APNIC, 2600::/12 ARIN, ...), in address order.
var registryV6 = []struct {
	reg  registry
	base uint32
}{
	{apnic, 0x2400}, {arin, 0x2600}, {lacnic, 0x2800}, {ripe, 0x2a00}, {afrinic, 0x2c00},
}

// v6PerChunk is the mean number of networks in an IPv6 /32.
const v6PerChunk = 12

// v6Chunk is an IPv6 /32 networks are laid out in.
type v6Chunk struct {
	// top is the first 32 bits of the /32.
	top uint32
	reg registry
}

// v6Chunks places n/v6PerChunk /32s in the registries' /12s in proportion
// to their countries' weights, each registry's packed from the start of its
// /12 with up to seven /32s between them (a /29 per LIR).
func v6Chunks(n int, p *places, r *rand.Rand) []v6Chunk {
	total := int(math.Ceil(float64(n) / v6PerChunk))
	var w [registries]float64
	var sum float64
	for i := range countries {
		if len(p.byCountry[i]) > 0 {
			w[registryOf(&countries[i])] += countries[i].weight
			sum += countries[i].weight
		}
	}
	var out []v6Chunk
	var cum float64
	prevEnd := 0
	for _, rv := range registryV6 {
		cum += w[rv.reg]
		end := int(math.Round(float64(total) * cum / sum))
		count := end - prevEnd
		prevEnd = end
		if count == 0 {
			continue
		}
		stride := max(1, min(8, (1<<20)/count))
		for j := range count {
			idx := uint32(j*stride + r.IntN(stride))
			out = append(out, v6Chunk{top: rv.base<<16 | idx&(1<<20-1), reg: rv.reg})
		}
	}
	return out
}

// v6Prefix is the network at offset (in /64s) in the /32 top.
func v6Prefix(top uint32, offset uint64, bits int) netip.Prefix {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(top)<<32|offset)
	return netip.PrefixFrom(netip.AddrFrom16(b), bits)
}
