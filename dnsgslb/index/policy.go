package index

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Buckets is how many client-subnet buckets the weighted policy and the
// traffic dial distinguish: one per percent.
const Buckets = 100

// Bucket maps a client address to its subnet's bucket: the hash of the /24
// (IPv4) or /56 (IPv6), so every client of a subnet, and every repeated
// query, lands in the same bucket.
func Bucket(addr netip.Addr) int {
	var x uint64
	if addr.Is4() {
		a := addr.As4()
		x = uint64(a[0])<<16 | uint64(a[1])<<8 | uint64(a[2])
	} else {
		a := addr.As16()
		x = binary.BigEndian.Uint64(a[:8]) >> 8
		x ^= 0xA5 << 56
	}
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return int(x % Buckets)
}

// weightedPoint is where in [0,1) a bucket falls for the weighted policy.
// It is a permutation of the bucket so that the weighted choice and the
// traffic dial, which both use the bucket, do not pick the same clients.
func weightedPoint(bucket int) float64 {
	return (float64((bucket*61+17)%Buckets) + 0.5) / Buckets
}

// rankBase orders candidates by what the policy knows about the client;
// bucket-dependent ordering (weights, dial) comes after, in finish.
func rankBase(policy v1.Policy, cands []candidate, idx []int, cl *client) (order []int, how string) {
	order = slices.Clone(idx)
	switch policy {
	case v1.Policy_POLICY_FAILOVER, v1.Policy_POLICY_WEIGHTED:
		return order, "listed order"
	case v1.Policy_POLICY_LATENCY:
		if cl.rtt != nil && hasRTT(cands, idx, cl) {
			slices.SortStableFunc(order, func(a, b int) int {
				return byRTT(cl, cands, a, b, func() int { return byDistance(cl, cands, a, b) })
			})
			return order, "measured RTT from PoP " + cl.class.Pop
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return byDistance(cl, cands, a, b) })
	return order, "distance"
}

// byRTT orders candidates a and b by the client's measured RTT to them, a
// candidate with one before a candidate without, and by dist (the distance
// order) when that does not tell them apart.
func byRTT(cl *client, cands []candidate, a, b int, dist func() int) int {
	ra, oka := cl.rtt[cands[a].name]
	rb, okb := cl.rtt[cands[b].name]
	switch {
	case oka && okb && ra != rb:
		return cmp.Compare(ra, rb)
	case oka && !okb:
		return -1
	case okb && !oka:
		return 1
	}
	return dist()
}

// byDistance orders candidates a and b by their distance from the client,
// then by location (compareLoc), so that candidates at one place keep
// their listed order and the order is the one rowTable gives.
func byDistance(cl *client, cands []candidate, a, b int) int {
	at := cl.class.Location.Point()
	if c := cmp.Compare(at.Farness(cands[a].location.Point()), at.Farness(cands[b].location.Point())); c != 0 {
		return c
	}
	return compareLoc(cands[a].location, cands[b].location)
}

func hasRTT(cands []candidate, idx []int, cl *client) bool {
	for _, i := range idx {
		if !cands[i].pop {
			if _, ok := cl.rtt[cands[i].name]; ok {
				return true
			}
		}
	}
	return false
}

// weightedOrder picks candidates one after another by weight at the
// bucket's point; candidates of weight 0 come last, in listed order.
func weightedOrder(cands []candidate, base []int, bucket int) []int {
	u := weightedPoint(bucket)
	rest := slices.Clone(base)
	out := make([]int, 0, len(base))
	for len(rest) > 0 {
		total := 0
		for _, i := range rest {
			total += max(cands[i].weight, 0)
		}
		if total == 0 {
			return append(out, rest...)
		}
		x := u * float64(total)
		pick := len(rest) - 1
		acc := 0.0
		for k, i := range rest {
			acc += float64(max(cands[i].weight, 0))
			if x < acc {
				pick = k
				break
			}
		}
		out = append(out, rest[pick])
		rest = slices.Delete(rest, pick, pick+1)
	}
	return out
}

// applyDial lets each candidate keep the share of clients its traffic dial
// says (buckets below the dial) and moves it behind the others for the rest.
func applyDial(cands []candidate, order []int, bucket int) (out, spilled []int) {
	out = make([]int, 0, len(order))
	for _, i := range order {
		if cands[i].dial >= 100 || bucket < cands[i].dial {
			out = append(out, i)
		} else {
			spilled = append(spilled, i)
		}
	}
	return append(out, spilled...), spilled
}
