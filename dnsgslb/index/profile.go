package index

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// profile is how a record ranks its candidates for every location class,
// shared by every record whose ranking reads the same inputs (candidates,
// their locations and health, policy, residency): thousands of records over
// a few origin pools compile a few profiles, not one mapping each.
type profile struct {
	// key is the profile's key (appendProfileKey).
	key string
	// classRC maps a location class to its record class (an index into
	// preps); nil when every class has record class 0 or placeRC says.
	classRC []uint16
	// placeRC maps a place (placeOf, the table's placeIDs.of) to its
	// record class, for a profile ranked by residency rule alone: its
	// build costs the places (a few hundred), not the classes.
	placeRC []uint16
	placeOf []int32
	preps   []prep
	// scopes caches ECS scope tables by grouping of the record classes.
	scopes map[string][2][]uint8
}

// rc is the record class of a location class.
func (p *profile) rc(class int32) int {
	switch {
	case p.classRC != nil:
		return int(p.classRC[class])
	case p.placeRC != nil:
		return int(p.placeRC[p.placeOf[class]])
	}
	return 0
}

// varies reports whether classes have record classes other than 0.
func (p *profile) varies() bool { return p.classRC != nil || p.placeRC != nil }

// maxRecordClasses bounds the record classes of one profile (classRC holds
// uint16).
const maxRecordClasses = math.MaxUint16

// appendProfileKey appends everything prepare reads of a record, so that
// records with equal keys rank alike for every class. rttSig is the PoPs'
// measured RTTs, which only the latency policy reads.
func appendProfileKey(b []byte, rec *record, rttSig string) []byte {
	b = strconv.AppendInt(b, int64(rec.policy), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(rec.whenAllDown), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(len(rec.cands)), 10)
	b = append(b, '|')
	for _, c := range rec.cands {
		b = append(b, c.name...)
		b = append(b, '/')
		b = strconv.AppendBool(b, c.pop)
		b = append(b, '/')
		b = strconv.AppendBool(b, c.healthy)
		b = append(b, '/')
		b = strconv.AppendBool(b, c.usable())
		b = append(b, '/')
		b = strconv.AppendUint(b, math.Float64bits(c.location.Latitude), 16)
		b = append(b, '/')
		b = strconv.AppendUint(b, math.Float64bits(c.location.Longitude), 16)
		b = append(b, '/')
		b = append(b, c.location.Country...)
		b = append(b, '/')
		b = append(b, c.location.Continent...)
		b = append(b, '|')
	}
	for _, r := range rec.rules {
		b = append(b, r.key...)
		b = append(b, '|')
	}
	if rec.policy == v1.Policy_POLICY_LATENCY {
		b = append(b, rttSig...)
	}
	return b
}

// profileKey sets rec.profKey. A key the previous build's parsed records
// or was (the key of the record it replaces) is taken from it, so that an
// update allocates no key for a record whose ranking inputs did not change.
func (b *builder) profileKey(rec *record, was string) {
	b.scratch = appendProfileKey(b.scratch[:0], rec, b.rttSig)
	k, ok := b.prevProfKeys[string(b.scratch)]
	switch {
	case ok:
	case was == string(b.scratch):
		k = was
	default:
		k = string(b.scratch)
	}
	b.ix.profKeys[k] = k
	rec.profKey = k
}

// rttSignature sums up what the latency policy reads of the clients: the
// in-service PoPs' RTTs.
func rttSignature(clients []client) string {
	var b strings.Builder
	for i, cl := range clients {
		if cl.rtt == nil {
			continue
		}
		names := make([]string, 0, len(cl.rtt))
		for n := range cl.rtt {
			names = append(names, n)
		}
		slices.Sort(names)
		b.WriteString(strconv.Itoa(i))
		for _, n := range names {
			fmt.Fprintf(&b, ",%s=%d", n, cl.rtt[n])
		}
		b.WriteByte(';')
	}
	return b.String()
}

// buildProfile ranks the record's candidates for every class. Classes whose
// ranking does not depend on where they are (listed-order policies, a
// single eligible candidate) are ranked once per residency rule instead.
func (b *builder) buildProfile(rec *record) (*profile, error) {
	p := &profile{scopes: map[string][2][]uint8{}}
	if !b.dependsOnLocation(rec) && len(rec.rules) == 0 {
		p.preps = []prep{rec.prepare(&b.ix.clients[0], nil)}
		return p, nil
	}
	if !b.dependsOnLocation(rec) {
		return b.buildPlaceProfile(rec, p)
	}
	p.classRC = make([]uint16, len(b.ix.clients))
	dist := b.distances(rec)
	// Each range of classes numbers its rankings by first appearance;
	// the ranges are then joined in class order, which numbers them as
	// one pass would.
	parts, err := split(b, len(b.ix.clients), func(lo, hi int) (rankings, error) {
		return b.rankRange(rec, dist, lo, hi, p.classRC)
	})
	if err != nil {
		return nil, err
	}
	byKey := map[string]uint16{}
	for _, part := range parts {
		remap := make([]uint16, len(part.preps))
		for j, pr := range part.preps {
			id, ok := byKey[part.keys[j]]
			if !ok {
				if len(p.preps) == maxRecordClasses {
					return nil, fmt.Errorf("more than %d distinct rankings of its candidates", maxRecordClasses)
				}
				id = uint16(len(p.preps))
				p.preps = append(p.preps, pr)
				byKey[part.keys[j]] = id
			}
			remap[j] = id
		}
		for ci := part.lo; ci < part.hi; ci++ {
			p.classRC[ci] = remap[p.classRC[ci]]
		}
	}
	if len(p.preps) == 1 {
		p.classRC = nil
	}
	return p, nil
}

// rankings are the distinct rankings of a range of classes, numbered by
// first appearance; classRC holds those numbers for the range.
type rankings struct {
	lo, hi int
	preps  []prep
	keys   []string
}

// rankRange ranks rec's candidates for the classes [lo, hi), writing each
// class's ranking number into classRC.
func (b *builder) rankRange(rec *record, dist [][]float64, lo, hi int, classRC []uint16) (rankings, error) {
	out := rankings{lo: lo, hi: hi}
	byKey := map[string]uint16{}
	var key []byte
	var scratch prepScratch
	for ci := lo; ci < hi; ci++ {
		if ci%4096 == 0 {
			if err := b.ctx.Err(); err != nil {
				return out, err
			}
		}
		pr := rec.prepareFast(&b.ix.clients[ci], dist, ci, &scratch)
		key = pr.appendKey(key[:0])
		id, added, err := addRanking(&out.preps, byKey, key, pr)
		if err != nil {
			return out, err
		}
		if added {
			out.keys = append(out.keys, string(key))
		}
		classRC[ci] = id
	}
	return out, nil
}

// addRanking numbers the ranking pr, whose key is key: the number of an
// equal ranking in preps, or a new one, pr being added (with a base of
// its own, as pr's is scratch) and reported as added.
func addRanking(preps *[]prep, byKey map[string]uint16, key []byte, pr prep) (id uint16, added bool, err error) {
	if id, ok := byKey[string(key)]; ok {
		return id, false, nil
	}
	if len(*preps) == maxRecordClasses {
		return 0, false, fmt.Errorf("more than %d distinct rankings of its candidates", maxRecordClasses)
	}
	id = uint16(len(*preps))
	pr.base = slices.Clone(pr.base)
	*preps = append(*preps, pr)
	byKey[string(key)] = id
	return id, true, nil
}

// buildPlaceProfile ranks the candidates of a record whose ranking does
// not depend on where the client is but for the residency rule that
// applies: every class the same rule applies to ranks alike, and rules
// read only a class's continent and country, so each rule is ranked once
// and each place (placeIDs) takes its rule's ranking. Places are numbered
// by their first class, so the rankings are numbered as a pass over the
// classes would.
func (b *builder) buildPlaceProfile(rec *record, p *profile) (*profile, error) {
	pl := b.places()
	p.placeOf = pl.of
	p.placeRC = make([]uint16, len(pl.first))
	byRule := make([]int32, len(rec.rules)+1) // by rule+1; -1: not ranked yet
	for i := range byRule {
		byRule[i] = -1
	}
	byKey := map[string]uint16{}
	var key []byte
	var scratch prepScratch
	for i, ci := range pl.first {
		cl := &b.ix.clients[ci]
		rule := rec.ruleFor(cl)
		if id := byRule[rule+1]; id >= 0 {
			p.placeRC[i] = uint16(id)
			continue
		}
		pr := rec.prepareFast(cl, nil, ci, &scratch)
		key = pr.appendKey(key[:0])
		id, _, err := addRanking(&p.preps, byKey, key, pr)
		if err != nil {
			return nil, err
		}
		byRule[rule+1] = int32(id)
		p.placeRC[i] = id
	}
	if len(p.preps) == 1 {
		p.placeRC, p.placeOf = nil, nil
	}
	return p, nil
}

// placeIDs number the (continent, country) pairs of the classes.
type placeIDs struct {
	// of is each class's place; first is each place's first class.
	of    []int32
	first []int
}

// places numbers the classes' places, once per build. buildProfile calls
// it before splitting the classes into pieces, which then only read it.
func (b *builder) places() *placeIDs {
	if b.placeOf != nil {
		return b.placeOf
	}
	p := &placeIDs{of: make([]int32, len(b.ix.clients))}
	ids := map[[2]string]int32{}
	for ci := range b.ix.clients {
		loc := &b.ix.clients[ci].class.Location
		k := [2]string{loc.Continent, loc.Country}
		id, ok := ids[k]
		if !ok {
			id = int32(len(p.first))
			ids[k] = id
			p.first = append(p.first, ci)
		}
		p.of[ci] = id
	}
	b.placeOf, b.ix.placeOf = p, p
	return p
}

// ruleFor is the index of the first residency rule that applies to cl, or
// -1 for none: the rule prepare follows.
func (r *record) ruleFor(cl *client) int {
	for i := range r.rules {
		if r.rules[i].matches(cl) {
			return i
		}
	}
	return -1
}

// dependsOnLocation reports whether the record's ranking can differ
// between classes other than by residency: a policy that ranks by distance
// or RTT over more than one candidate.
func (b *builder) dependsOnLocation(rec *record) bool {
	switch rec.policy {
	case v1.Policy_POLICY_FAILOVER, v1.Policy_POLICY_WEIGHTED:
		return false
	}
	n := 0
	for _, c := range rec.cands {
		if c.usable() {
			n++
		}
	}
	return n > 1
}

// distances returns, per candidate of rec, its farness (geo.Point.Farness)
// from every class, computed once per location and shared by every
// profile.
func (b *builder) distances(rec *record) [][]float64 {
	out := make([][]float64, len(rec.cands))
	for i, c := range rec.cands {
		k := [2]float64{c.location.Latitude, c.location.Longitude}
		col, ok := b.dist[k]
		if !ok {
			col = make([]float64, len(b.ix.clients))
			at := c.location.Point()
			for ci := range b.ix.clients {
				col[ci] = b.ix.clients[ci].at.Farness(at)
			}
			b.dist[k] = col
		}
		out[i] = col
	}
	return out
}

// appendKey appends a compact encoding of a prep, equal for equal preps.
func (p prep) appendKey(dst []byte) []byte {
	flags := byte(0)
	if p.nodata {
		flags |= 1
	}
	if p.allDown {
		flags |= 2
	}
	dst = append(dst, byte(p.rcode), flags)
	for _, i := range p.base {
		dst = binaryAppendUvarint(dst, uint64(i))
	}
	return dst
}

func binaryAppendUvarint(dst []byte, x uint64) []byte {
	for x >= 0x80 {
		dst = append(dst, byte(x)|0x80)
		x >>= 7
	}
	return append(dst, byte(x))
}

// prepScratch is reused by prepareFast across classes.
type prepScratch struct {
	allowed, healthy, order []int
}

// prepareFast is prepare without a trace, for compiling: it reads
// distances from dist (per candidate, per class) and returns a prep whose
// base lives in s until the next call. It must agree with prepare.
func (r *record) prepareFast(cl *client, dist [][]float64, ci int, s *prepScratch) prep {
	s.allowed = s.allowed[:0]
	for i := range r.cands {
		if r.cands[i].usable() {
			s.allowed = append(s.allowed, i)
		}
	}
	for _, ru := range r.rules {
		if ru.matches(cl) {
			s.allowed = slices.DeleteFunc(s.allowed, func(i int) bool { return !ru.allowed[r.cands[i].name] })
			break
		}
	}
	s.healthy = s.healthy[:0]
	for _, i := range s.allowed {
		if r.cands[i].healthy {
			s.healthy = append(s.healthy, i)
		}
	}
	rank := func(idx []int, allDown bool) prep {
		s.order = append(s.order[:0], idx...)
		how := r.rankInto(s.order, cl, dist, ci)
		return prep{base: s.order, how: how, allDown: allDown}
	}
	if len(s.healthy) > 0 {
		return rank(s.healthy, false)
	}
	switch r.whenAllDown {
	case v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA:
		return prep{nodata: true}
	case v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL:
		return prep{rcode: 2}
	}
	if len(s.allowed) == 0 {
		return prep{nodata: true}
	}
	return rank(s.allowed, true)
}

// rankInto sorts order as rankBase does, reading distances from dist.
func (r *record) rankInto(order []int, cl *client, dist [][]float64, ci int) string {
	switch r.policy {
	case v1.Policy_POLICY_FAILOVER, v1.Policy_POLICY_WEIGHTED:
		return "listed order"
	case v1.Policy_POLICY_LATENCY:
		if cl.rtt != nil && hasRTT(r.cands, order, cl) {
			slices.SortStableFunc(order, func(a, b int) int {
				return byRTT(cl, r.cands, a, b, func() int { return r.byDist(dist, ci, a, b) })
			})
			return "measured RTT from PoP " + cl.class.Pop
		}
	}
	// Insertion sort: stable, and fast for the few candidates of a record.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && r.byDist(dist, ci, order[j], order[j-1]) < 0; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return "distance"
}

// byDist is byDistance with distances read from dist.
func (r *record) byDist(dist [][]float64, ci, a, b int) int {
	if c := cmp.Compare(dist[a][ci], dist[b][ci]); c != 0 {
		return c
	}
	return compareLoc(r.cands[a].location, r.cands[b].location)
}
