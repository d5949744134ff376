package index

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// referral is the answer for names at or below a zone cut: not
// authoritative, the cut's NS records in the authority section and the
// glue of its name servers in the additional section.
type referral struct {
	// msg is the referral packed as the reply for the cut's own name.
	msg []byte
	// body is the offset of the first record in msg, and ptrs the offsets
	// (from body) of the compression pointers in the records: a reply for
	// a name n bytes longer than the cut's moves every one of them n bytes
	// on.
	body int
	ptrs []int
	// signed is the referral with the cut's NSEC and its RRSIGs, for
	// queries with the DO bit; nil outside signed zones.
	signed *referral
}

// findCuts marks the nodes at and below each zone cut (an NS RRset below a
// zone's apex) with their cut and packs each cut's referral. It fails
// when a GslbRecord is at or below a cut.
func (ix *Index) findCuts() error {
	if !ix.delegates {
		// No NS below an apex: no cut, and no node to mark, which
		// would be a walk over every name.
		ix.cuts = true
		return nil
	}
	ix.markCuts()
	for _, n := range ix.names {
		if n.cut == nil {
			continue
		}
		for _, rs := range n.rrsets {
			if rs.rec != nil {
				return fmt.Errorf("GslbRecord %q: %s is delegated to a child zone at %s", rs.rec.object, n.name, n.cut.name)
			}
		}
		if n.cut == n {
			if err := ix.packReferral(n); err != nil {
				return err
			}
		}
	}
	ix.cuts = true
	return nil
}

// markCuts marks the nodes at and below each zone cut with their cut.
func (ix *Index) markCuts() {
	for _, n := range ix.names {
		if n.name != n.zone.apex && n.find(dns.TypeNS) != nil {
			n.cut = n
		}
	}
	for _, n := range ix.names {
		if n.cut != nil {
			continue
		}
		for p := parentName(n.name); p != "" && len(p) >= len(n.zone.apex); p = parentName(p) {
			if up := ix.names[wireKey(p)]; up != nil && up.cut == up {
				n.cut = up
				break
			}
		}
	}
}

// parentName is name without its first label; "" for the root.
func parentName(name string) string {
	for i := 0; i < len(name)-1; i++ {
		if name[i] == '\\' {
			i++
			continue
		}
		if name[i] == '.' {
			return name[i+1:]
		}
	}
	return ""
}

// packReferral packs the referral of cut n, with the A and AAAA records of
// its name servers that the index holds as glue.
func (ix *Index) packReferral(n *node) error {
	ns := n.find(dns.TypeNS).rrs
	var glue []dns.RR
	for _, rr := range ns {
		if t := ix.names[wireKey(rr.(*dns.NS).Ns)]; t != nil {
			for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
				if rs := t.find(typ); rs != nil && rs.rec == nil {
					glue = append(glue, rs.rrs...)
				}
			}
		}
	}
	r, err := packedReferral(n.name, n.wlen, ns, glue)
	if err != nil {
		return err
	}
	if zs := n.zone.signing; zs != nil {
		// The child's DS RRset, signed, carries the chain of trust to
		// the child zone; without one, the cut's NSEC, signed, proves
		// there is none: the child zone is not signed as far as
		// validators are told.
		var proof []dns.RR
		var err error
		if ds := n.find(dns.TypeDS); ds != nil {
			proof, err = zs.withSigs(ds.rrs)
		} else {
			proof, err = zs.withSigs(n.zone.denial(n, dns.TypeDS))
		}
		if err != nil {
			return err
		}
		if r.signed, err = packedReferral(n.name, n.wlen, append(slices.Clone(ns), proof...), glue); err != nil {
			return err
		}
	}
	n.referral = r
	return nil
}

// packedReferral packs a referral for the cut's name, and finds the
// compression pointers in it past the question.
func packedReferral(name string, wlen int, ns, glue []dns.RR) (*referral, error) {
	a, err := pack(name, dns.RcodeSuccess, nil, ns, glue)
	if err != nil {
		return nil, err
	}
	b := a.msg
	b[2] &^= byte(wire.FlagAA >> 8)
	r := &referral{msg: b, body: 12 + wlen + 4}
	off := r.body
	skipName := func() {
		for off < len(b) {
			c := b[off]
			switch {
			case c == 0:
				off++
				return
			case c&0xC0 == 0xC0:
				r.ptrs = append(r.ptrs, off-r.body)
				off += 2
				return
			}
			off += int(c) + 1
		}
	}
	for range len(ns) + len(glue) {
		skipName()
		typ := binary.BigEndian.Uint16(b[off:])
		rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
		off += 10
		end := off + rdlen
		if typ == dns.TypeNS {
			skipName()
		}
		off = end
	}
	return r, nil
}

// delegated returns the cut a query for lc (a lower-case wire name with no
// node of its own) falls under, and the offset of the cut's name in it.
func (ix *Index) delegated(lc []byte) (*node, int) {
	for off := int(lc[0]) + 1; off < len(lc) && lc[off] != 0; off += int(lc[off]) + 1 {
		if n := ix.names[string(lc[off:])]; n != nil {
			if n.cut != nil {
				return n.cut, off + n.wlen - n.cut.wlen
			}
			return nil, 0
		}
	}
	return nil, 0
}

// refer writes the referral of cut into dst as the reply to q, whose name
// holds the cut's name from offset off.
func refer(dst []byte, q *wire.Query, cut *node, off, maxSize int) []byte {
	r := cut.referral
	if q.DO && r.signed != nil {
		r = r.signed
	}
	if len(r.msg)+off+wire.OPTLen(q) > maxSize {
		// Not authoritative, as the referral it stands for.
		b := truncated(dst, q, wire.RcodeSuccess)
		b[2] &^= byte(wire.FlagAA >> 8)
		return b
	}
	b := append(dst[:0], r.msg[:12]...)
	b = wire.AppendQuestion(b, q)
	start := len(b)
	b = append(b, r.msg[r.body:]...)
	for _, p := range r.ptrs {
		v := binary.BigEndian.Uint16(b[start+p:])
		binary.BigEndian.PutUint16(b[start+p:], v+uint16(off))
	}
	return makeReply(b, q, wire.RcodeSuccess, 0)
}
