package gslbscale

import (
	"strconv"
	"strings"
)

// registryOctets are, roughly, the /8s IANA gave each registry (legacy
// space counted where most of it is used); the rest count as ARIN's.
var registryOctets = [registries]string{
	arin:    "3-4 6-9 11-13 15-24 26 28-30 32-35 38 40 44-45 47-48 50 52 54-56 63-76 96-100 104 107-108 128-132 134-140 142-144 146-149 152 155-162 164-174 184 192 198-199 204-209 216",
	ripe:    "2 5 25 31 37 46 51 53 57 62 77-95 109 141 145 151 176 178 185 188 193-195 212-213 217",
	apnic:   "1 14 27 36 39 42-43 49 58-61 101 103 106 110-126 133 150 153 175 180 182-183 202-203 210-211 218-223",
	lacnic:  "177 179 181 186-187 189-191 200-201",
	afrinic: "41 102 105 154 196-197",
}

// octetRegistry is the registry of each first octet.
var octetRegistry = func() [256]registry {
	var out [256]registry // arin is 0
	for g, list := range registryOctets {
		for _, f := range strings.Fields(list) {
			lo, hi, ok := strings.Cut(f, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a > b || b > 255 {
				panic("gslbscale: bad registry octets " + f)
			}
			for o := a; o <= b; o++ {
				out[o] = registry(g)
			}
		}
	}
	return out
}()

// v4Chunk is an IPv4 /16 networks are laid out in.
type v4Chunk struct {
	base uint32
	reg  registry
}

// v4Chunks are the /16s of unicast space outside the reserved ranges
// (RFC 6890: this network, private, shared, loopback, link-local,
// documentation, benchmarking, multicast, future use), in order.
func v4Chunks() []v4Chunk {
	var out []v4Chunk
	for a := 1; a < 224; a++ {
		for b := 0; b < 256; b++ {
			if reservedV4(a, b) {
				continue
			}
			out = append(out, v4Chunk{base: uint32(a)<<24 | uint32(b)<<16, reg: octetRegistry[a]})
		}
	}
	return out
}

// reservedV4 reports whether the /16 a.b.0.0 holds a reserved range.
func reservedV4(a, b int) bool {
	switch a {
	case 10, 127:
		return true
	case 100:
		return b >= 64 && b < 128
	case 169:
		return b == 254
	case 172:
		return b >= 16 && b < 32
	case 192:
		return b == 0 || b == 88 || b == 168
	case 198:
		return b == 18 || b == 19 || b == 51
	case 203:
		return b == 0
	}
	return false
}
