package index

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/miekg/dns"
)

// A record answered live in a signed zone has its RRSIGs made when the
// index is built, like every other answer: one set per RRset the live
// selection can return. The selection takes the first addresses of the
// candidates it ranks, passing over those it holds already, so an answer is
// some candidates' addresses in full and a first part of one more's new
// ones; the RRsets are enumerated from the
// candidates alone (healthy or not, whatever the residency variant, so a
// health change signs nothing new), each named by a bitmask over the
// record's distinct addresses. A query sets the bits of the addresses it
// answers with and finds the signatures by binary search. A record with
// more RRsets than maxLiveSigned, or more than 64 distinct addresses, is
// compiled per location class instead.

// maxLiveSigned bounds the RRsets signed ahead for one record answered
// live.
const maxLiveSigned = 256

// liveSigs are the signatures of a live record's answer RRsets.
type liveSigs struct {
	// bit is, per candidate and address, the bit of the address among
	// the record's distinct addresses.
	bit [][]uint8
	// masks are the RRsets signed, sorted; rrsigs[i] are the RRSIGs of
	// masks[i], packed with the question as owner, and n[i] counts them.
	masks  []uint64
	rrsigs [][]byte
	n      []uint8
}

// liveRRsets enumerates the RRsets a live record can answer with, as
// bitmasks over its distinct addresses (bit gives each candidate's
// addresses' bits), sorted; false when there are more than maxLiveSigned,
// or more than 64 distinct addresses.
func liveRRsets(rec *record) (bit [][]uint8, masks []uint64, ok bool) {
	var distinct []netip.Addr
	bit = make([][]uint8, len(rec.cands))
	var with []int // candidates with an address
	for i, c := range rec.cands {
		for _, a := range c.addrs {
			k := slices.Index(distinct, a)
			if k < 0 {
				if len(distinct) == 64 {
					return nil, nil, false
				}
				k = len(distinct)
				distinct = append(distinct, a)
			}
			bit[i] = append(bit[i], uint8(k))
		}
		if len(c.addrs) > 0 {
			with = append(with, i)
		}
	}
	seen := map[uint64]bool{}
	// Steps bounds the enumeration itself: sets of candidates can be many
	// more than the RRsets they make.
	steps := 0
	// full: candidates answered with all their addresses (a set taken in
	// the order of with, from index from on), fewer than answers distinct
	// ones in all (fullMask); then any other candidate answers its first
	// addresses not among those.
	var walk func(from int, full uint64, fullMask uint64) bool
	walk = func(from int, full, fullMask uint64) bool {
		for _, l := range with {
			if full&(1<<l) != 0 {
				continue
			}
			m := fullMask
			for _, b := range bit[l] {
				if bits.OnesCount64(m) == rec.answers {
					break
				}
				m |= 1 << b
			}
			if !seen[m] {
				if len(seen) == maxLiveSigned {
					return false
				}
				seen[m] = true
			}
			if steps++; steps > 16*maxLiveSigned {
				return false
			}
		}
		for k := from; k < len(with); k++ {
			i := with[k]
			m := fullMask
			for _, b := range bit[i] {
				m |= 1 << b
			}
			if bits.OnesCount64(m) >= rec.answers {
				continue
			}
			if !walk(k+1, full|1<<i, m) {
				return false
			}
		}
		return true
	}
	if !walk(0, 0, 0) {
		return nil, nil, false
	}
	for m := range seen {
		masks = append(masks, m)
	}
	slices.Sort(masks)
	return bit, masks, true
}

// distinctAddrs are a record's distinct addresses by bit (see liveRRsets).
func distinctAddrs(rec *record, bit [][]uint8) *[64]netip.Addr {
	var distinct [64]netip.Addr
	for i, c := range rec.cands {
		for k, a := range c.addrs {
			distinct[bit[i][k]] = a
		}
	}
	return &distinct
}

// rrsetOf is the RRset of the addresses of mask.
func (rec *record) rrsetOf(distinct *[64]netip.Addr, mask uint64) []dns.RR {
	var rrset []dns.RR
	for k := range 64 {
		if mask&(1<<k) != 0 {
			rrset = append(rrset, addrRR(rec.node.name, rec.ttl, distinct[k]))
		}
	}
	return rrset
}

// signLive signs every RRset of a live record in a signed zone.
func (b *builder) signLive(rec *record, lv *live) error {
	zs := rec.node.zone.signing
	bit, masks, ok := liveRRsets(rec)
	if !ok {
		return fmt.Errorf("too many answer RRsets to sign ahead")
	}
	distinct := distinctAddrs(rec, bit)
	ls := &liveSigs{bit: bit, masks: masks, rrsigs: make([][]byte, len(masks)), n: make([]uint8, len(masks))}
	name := rec.node.name
	var owner [256]byte
	olen, err := dns.PackDomainName(name, owner[:], 0, nil, false)
	if err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for i, m := range masks {
		sigs, err := zs.sign(rec.rrsetOf(distinct, m))
		if err != nil {
			return err
		}
		var packed []byte
		for _, sig := range sigs {
			off, err := dns.PackRR(sig, buf, 0, nil, false)
			if err != nil {
				return fmt.Errorf("pack RRSIG of %s: %w", name, err)
			}
			// The owner is the question: a pointer to offset 12.
			packed = append(packed, 0xC0, 12)
			packed = append(packed, buf[olen:off]...)
		}
		ls.rrsigs[i], ls.n[i] = packed, uint8(len(sigs))
	}
	lv.sigs = ls
	return nil
}

// presignLive signs, on every processor, the RRsets of the live records
// of signed zones that the signature cache does not hold, for a build that
// may use them all (Options.Concurrent: a server's first, as after a
// restart, when the cache is empty); signLive then finds them cached.
func (b *builder) presignLive() error {
	type job struct {
		zs    *zoneSigning
		key   string
		rrset []dns.RR
		sigs  []dns.RR
	}
	var jobs []job
	queued := map[string]bool{}
	for _, rec := range b.ix.records {
		zs := rec.node.zone.signing
		if zs == nil || !b.useLive(rec) {
			continue
		}
		bit, masks, _ := liveRRsets(rec)
		distinct := distinctAddrs(rec, bit)
		for _, m := range masks {
			rrset := rec.rrsetOf(distinct, m)
			key := sigKey(rrset)
			if _, ok := zs.sigs[key]; ok || queued[key] {
				continue
			}
			queued[key] = true
			jobs = append(jobs, job{zs: zs, key: key, rrset: rrset})
		}
	}
	if _, err := split(b, len(jobs), func(lo, hi int) (struct{}, error) {
		for i := lo; i < hi; i++ {
			j := &jobs[i]
			sigs, err := j.zs.signer.Sign(j.rrset, j.zs.at)
			if err != nil {
				return struct{}{}, err
			}
			j.sigs = sigs
		}
		return struct{}{}, nil
	}); err != nil {
		return err
	}
	for _, j := range jobs {
		j.zs.sigs[j.key] = j.sigs
		j.zs.made++
	}
	return nil
}

// find is the index of mask among the signed RRsets, or -1.
func (ls *liveSigs) find(mask uint64) int {
	lo, hi := 0, len(ls.masks)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ls.masks[mid] < mask {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(ls.masks) && ls.masks[lo] == mask {
		return lo
	}
	return -1
}
