package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// liveBudget bounds the work of compiling an answer per location class for
// records ranked by distance or RTT: when the classes times the distinct
// ways such records rank (their profiles) exceed it, every such record over
// several candidates picks its answer at query time instead, reading its
// candidates' order off its client's row (rowTable): compiling then costs
// the same whatever the database and however many candidate sets there
// are, and a query walks a few dozen locations. Under it, each record gets
// its own, wider, ECS scopes. A City database (about 100,000 classes) with
// more than 40 such profiles answers live; the example zone never does.
var liveBudget = 4_000_000

// maxLiveCandidates bounds the candidates of a record answered live: its
// candidate sets are bitmasks.
const maxLiveCandidates = 64

// live is what a record answered at query time needs: where its candidates
// are in the rows, which of them each residency variant lets through, and
// its answer in pieces to assemble.
type live struct {
	rows *rowTable
	// at maps a location id to the record's candidates there, in record
	// order; nil for a location the record has no candidate at.
	at [][]uint8
	// eligible and allowed are, per residency variant (0: no rule applies;
	// i: rule i-1 applies), the candidates with an address of the record's
	// type that the rule allows, healthy (eligible) or not (allowed, for
	// failing open).
	eligible, allowed []uint64
	// dial is each candidate's traffic dial.
	dial []uint8
	// rrs holds each candidate's answer records, packed, one per address,
	// their owner a pointer to the question.
	rrs [][][]byte
	// shared marks the candidates with an address another candidate, or
	// the candidate itself, also has: only theirs can repeat in an answer.
	shared uint64
	// head is the reply up to its answer records: the header (no records)
	// and the question.
	head []byte
	// nodata and servfail are the answers when no candidate can be given.
	nodata, servfail *answer
	// sigs are the RRSIGs of every answer RRset, in a signed zone.
	sigs *liveSigs
}

// liveCandidate says whether rec could be answered live: a policy that
// ranks by where the client is, more than one candidate with an address,
// few enough candidates for the bitmasks, and answers of address records
// only (not HTTPS, no name origins).
func (b *builder) liveCandidate(rec *record) bool {
	if rec.qtype == dns.TypeHTTPS {
		return false // one record of hints, compiled per class
	}
	for _, c := range rec.cands {
		if c.host != "" {
			return false // a CNAME, compiled per class
		}
	}
	return len(rec.cands) <= maxLiveCandidates && b.dependsOnLocation(rec)
}

// useLive says whether rec is answered live (see liveBudget): in a signed
// zone, when its answer RRsets are few enough to sign ahead (see
// maxLiveSigned).
func (b *builder) useLive(rec *record) bool {
	if !b.live || !b.liveCandidate(rec) {
		return false
	}
	if rec.node.zone.signing == nil {
		return true
	}
	_, _, ok := liveRRsets(rec)
	return ok
}

// decideLive sets whether the build answers live (see liveBudget). It
// stops counting profiles once there are enough: at City size that is
// after a few dozen records, not every record of every update.
func (b *builder) decideLive() {
	keys := map[string]bool{}
	b.live = false
	for _, rec := range b.ix.records {
		if b.liveCandidate(rec) {
			keys[rec.profKey] = true
			if len(b.ix.clients)*len(keys) > liveBudget {
				b.live = true
				return
			}
		}
	}
}

// compileLive prepares rec to be answered at query time.
func (b *builder) compileLive(rec *record) error {
	rows, err := b.rowsFor()
	if err != nil {
		return err
	}
	lv := &live{rows: rows, at: make([][]uint8, len(rows.locs)), dial: make([]uint8, len(rec.cands))}
	var hasAddr uint64
	for i, c := range rec.cands {
		id, ok := rows.ids[locKey(c.location)]
		if !ok {
			return fmt.Errorf("candidate %q: its location is not ranked", c.name)
		}
		lv.at[id] = append(lv.at[id], uint8(i))
		lv.dial[i] = uint8(c.dial)
		if len(c.addrs) > 0 {
			hasAddr |= 1 << i
		}
		var rrs [][]byte
		for k, a := range c.addrs {
			rrs = append(rrs, packAddrRR(rec.ttl, a.AsSlice()))
			if slices.Index(c.addrs, a) != k {
				lv.shared |= 1 << i
			}
			for j, o := range rec.cands {
				if j != i && slices.Contains(o.addrs, a) {
					lv.shared |= 1 << i
				}
			}
		}
		lv.rrs = append(lv.rrs, rrs)
	}
	variants := len(rec.rules) + 1
	for v := range variants {
		allowed := hasAddr
		if v > 0 {
			ru := &rec.rules[v-1]
			for i, c := range rec.cands {
				if !ru.allowed[c.name] {
					allowed &^= 1 << i
				}
			}
		}
		eligible := allowed
		for i, c := range rec.cands {
			if !c.healthy {
				eligible &^= 1 << i
			}
		}
		lv.allowed = append(lv.allowed, allowed)
		lv.eligible = append(lv.eligible, eligible)
	}
	name := rec.node.name
	head, err := pack(name, dns.RcodeSuccess, nil, nil, nil)
	if err != nil {
		return err
	}
	lv.head = head.msg
	if lv.nodata, err = rec.answerFor(prep{nodata: true}, nil, "", nil, map[string]*answer{}); err != nil {
		return err
	}
	if lv.servfail, err = rec.answerFor(prep{rcode: dns.RcodeServerFailure}, nil, "", nil, map[string]*answer{}); err != nil {
		return err
	}
	if rec.node.zone.signing != nil {
		if err := b.signLive(rec, lv); err != nil {
			return err
		}
	}
	rec.live = lv
	return nil
}

// rowsFor returns the build's row table over every candidate location of
// the snapshot's records, taken from the previous index when it ranks the
// same locations against the same table.
func (b *builder) rowsFor() (*rowTable, error) {
	if b.ix.rows != nil {
		return b.ix.rows, nil
	}
	locs := sortedLocs(b.locations())
	if p := b.prevRows; p != nil && p.sameLocs(locs) {
		if p.scopes[0] == nil && !b.quick {
			// Built quick: the rows stand, the scopes are added.
			p = &rowTable{locs: p.locs, ids: p.ids, rows: p.rows, group: p.group}
			p.scopes = b.rowScopes(p.group)
		}
		b.ix.rows = p
		return p, nil
	}
	t, err := b.buildRows(locs)
	if err != nil {
		return nil, err
	}
	b.ix.rows = t
	return t, nil
}

// packAddrRR packs an A or AAAA record whose owner is the question name
// (a compression pointer to offset 12).
func packAddrRR(ttl uint32, ip []byte) []byte {
	t := dns.TypeA
	if len(ip) == 16 {
		t = dns.TypeAAAA
	}
	b := []byte{0xC0, 12}
	b = binary.BigEndian.AppendUint16(b, t)
	b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ip)))
	return append(b, ip...)
}

// liveChoice is the outcome of a live selection: the candidates ranked, in
// order, whose first addresses the answer takes (see addrsOf), or a fixed
// answer.
type liveChoice struct {
	fixed *answer
	order [maxLiveCandidates]uint8
	n     int
}

// variant is the residency variant of a client: 0 when no rule applies,
// else one more than the index of the first rule that does.
func (r *record) variant(cl *client) int {
	for i := range r.rules {
		if r.rules[i].matches(cl) {
			return i + 1
		}
	}
	return 0
}

// chooseLive runs the record's selection for a client of class c at
// bucket, as prepare and finish would, without allocating.
func (r *record) chooseLive(cl *client, c int32, bucket int) liveChoice {
	lv := r.live
	v := r.variant(cl)
	mask := lv.eligible[v]
	if mask == 0 {
		switch r.whenAllDown {
		case v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA:
			return liveChoice{fixed: lv.nodata}
		case v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL:
			return liveChoice{fixed: lv.servfail}
		}
		if mask = lv.allowed[v]; mask == 0 {
			return liveChoice{fixed: lv.nodata}
		}
	}
	var ch liveChoice
	for _, id := range lv.rows.row(c) {
		for _, i := range lv.at[id] {
			if mask&(1<<i) != 0 {
				ch.order[ch.n] = i
				ch.n++
			}
		}
	}
	if r.policy == v1.Policy_POLICY_LATENCY && cl.rtt != nil {
		r.byRTT(&ch, cl)
	}
	if r.hashed {
		r.spill(&ch, bucket)
	}
	return ch
}

// repeats reports whether the j-th address of the k-th candidate of ch is
// already in its answer: an earlier address of the candidate or of one
// ranked before it, all of whose addresses the answer has taken or passed
// over. Only shared candidates are compared, so distinct addresses cost a
// bit test.
func (lv *live) repeats(ch *liveChoice, k, j int) bool {
	c := ch.order[k]
	if lv.shared&(1<<c) == 0 {
		return false
	}
	rr := lv.rrs[c][j]
	for _, o := range lv.rrs[c][:j] {
		if bytes.Equal(o, rr) {
			return true
		}
	}
	for _, e := range ch.order[:k] {
		if lv.shared&(1<<e) == 0 {
			continue
		}
		for _, o := range lv.rrs[e] {
			if bytes.Equal(o, rr) {
				return true
			}
		}
	}
	return false
}

// byRTT orders candidates with a measured RTT from the asking PoP first, by
// RTT, keeping the distance order among the rest, as rankBase does; it
// does nothing when none has one.
func (r *record) byRTT(ch *liveChoice, cl *client) {
	var rtt [maxLiveCandidates]time.Duration
	var has [maxLiveCandidates]bool
	any := false
	for k := range ch.n {
		c := &r.cands[ch.order[k]]
		if !c.pop {
			rtt[k], has[k] = cl.rtt[c.name]
			any = any || has[k]
		}
	}
	if !any {
		return
	}
	for i := 1; i < ch.n; i++ {
		for j := i; j > 0 && rttBefore(has[j], rtt[j], has[j-1], rtt[j-1]); j-- {
			ch.order[j], ch.order[j-1] = ch.order[j-1], ch.order[j]
			rtt[j], rtt[j-1] = rtt[j-1], rtt[j]
			has[j], has[j-1] = has[j-1], has[j]
		}
	}
}

// rttBefore reports whether a candidate with RTT (hasA, a) comes strictly
// before one with (hasB, b).
func rttBefore(hasA bool, a time.Duration, hasB bool, b time.Duration) bool {
	switch {
	case hasA && hasB:
		return a < b
	case hasA:
		return true
	}
	return false
}

// spill moves the candidates whose traffic dial the bucket is past behind
// the others, keeping each group's order, as applyDial does.
func (r *record) spill(ch *liveChoice, bucket int) {
	var kept, spilled [maxLiveCandidates]uint8
	nk, ns := 0, 0
	for _, i := range ch.order[:ch.n] {
		if d := r.live.dial[i]; d >= 100 || bucket < int(d) {
			kept[nk] = i
			nk++
		} else {
			spilled[ns] = i
			ns++
		}
	}
	copy(ch.order[:], kept[:nk])
	copy(ch.order[nk:], spilled[:ns])
}

// liveRecord is the record answered live for q at n, or nil.
func liveRecord(n *node, q *wire.Query) *record {
	if q.Qtype == dns.TypeANY {
		return nil
	}
	rs := n.find(q.Qtype)
	if rs == nil || rs.rec == nil || rs.rec.live == nil {
		return nil
	}
	return rs.rec
}

// respondLive assembles the reply of a live record: the head, then the
// chosen candidates' records.
func (ix *Index) respondLive(dst []byte, q *wire.Query, rec *record, src netip.Addr, maxSize int, out *Outcome) []byte {
	client := clientAddr(q, src)
	addr := client.Unmap()
	leaf := ix.table.Lookup(addr)
	lv := rec.live
	scope := leaf.Bits
	if s := lv.rows.scopes[b2i(leaf.V6)]; s != nil {
		scope = s[leaf.Index]
	}
	bucket := 0
	if rec.hashed {
		bucket = Bucket(addr)
		scope = max(scope, bucketBits(leaf.V6))
	}
	scope = familyScope(client, scope)
	ch := rec.chooseLive(&ix.clients[leaf.Class], leaf.Class, bucket)
	if ch.fixed != nil {
		out.Rcode = ch.fixed.rcode
		return patch(dst, q, ch.fixed, rec.node.zone, scope, maxSize)
	}
	// The answer takes the ranked candidates' addresses, passing over
	// any it holds already (see addrsOf), up to the record's count.
	var sig []byte
	var nsig int
	signed := q.DO && lv.sigs != nil
	size := len(lv.head) + wire.OPTLen(q)
	count := 0
	var mask uint64
	for k := 0; k < ch.n && count < rec.answers; k++ {
		c := ch.order[k]
		for j, rr := range lv.rrs[c] {
			if count == rec.answers {
				break
			}
			if lv.repeats(&ch, k, j) {
				continue
			}
			if signed {
				mask |= 1 << lv.sigs.bit[c][j]
			}
			size += len(rr)
			count++
		}
	}
	if signed {
		i := lv.sigs.find(mask)
		if i < 0 {
			// Not signed ahead; the enumeration covers every answer.
			out.Rcode = lv.servfail.rcode
			return patch(dst, q, lv.servfail, rec.node.zone, scope, maxSize)
		}
		sig, nsig = lv.sigs.rrsigs[i], int(lv.sigs.n[i])
		size += len(sig)
	}
	if size > maxSize {
		return truncated(dst, q, wire.RcodeSuccess)
	}
	b := append(dst[:0], lv.head...)
	binary.BigEndian.PutUint16(b[6:], uint16(count+nsig))
	count = 0
	for k := 0; k < ch.n && count < rec.answers; k++ {
		c := ch.order[k]
		had := count
		for j, rr := range lv.rrs[c] {
			if count == rec.answers {
				break
			}
			if lv.repeats(&ch, k, j) {
				continue
			}
			b = append(b, rr...)
			count++
		}
		if count > had {
			out.live[out.nlive] = int32(rec.cands[c].slot)
			out.nlive++
		}
	}
	b = append(b, sig...)
	return makeReply(b, q, wire.RcodeSuccess, scope)
}

// bucketBits is the subnet a bucket is drawn from: a hashed answer varies
// at least at that length.
func bucketBits(v6 bool) uint8 {
	if v6 {
		return 56
	}
	return 24
}

// SetLiveBudget sets the bound past which records are answered live (see
// liveBudget) and returns the one it replaces: 0 answers live every record
// that can be. It is for tests and benchmarks, and must not be called
// while an index is compiled.
func SetLiveBudget(n int) int {
	old := liveBudget
	liveBudget = n
	return old
}
