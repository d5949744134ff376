package index

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// Outcome says what a response was, for metrics.
type Outcome struct {
	// ZoneSlot is the metrics slot of the zone asked about; -1 outside
	// every zone.
	ZoneSlot int
	Rcode    int
	// Slots are the metrics slots of the origins or PoPs answered with,
	// for an answer compiled ahead; LiveSlots has those of an answer
	// assembled at query time.
	Slots []int
	// Referral says the reply is a referral to the zone cut whose name is
	// the question name from byte CutOff on.
	Referral bool
	CutOff   int
	live     [maxLiveCandidates]int32
	nlive    int
}

// LiveSlots are the metrics slots of the origins or PoPs of an answer
// assembled at query time (see Slots).
func (o *Outcome) LiveSlots() []int32 { return o.live[:o.nlive] }

// Respond writes the reply to q into dst (from dst[:0]) and returns it. src
// is the address the query came from; maxSize is the largest reply allowed
// (see UDPLimit), past which the reply is truncated with TC set. Respond
// does not allocate.
func (ix *Index) Respond(dst []byte, q *wire.Query, src netip.Addr, maxSize int) ([]byte, Outcome) {
	var out Outcome
	b := ix.RespondTo(dst, q, src, maxSize, &out)
	return b, out
}

// RespondTo is Respond with the outcome written to *out, which a server
// keeps from query to query: only the fields of this reply are reset.
func (ix *Index) RespondTo(dst []byte, q *wire.Query, src netip.Addr, maxSize int, out *Outcome) []byte {
	out.ZoneSlot, out.Rcode, out.Slots, out.nlive, out.Referral = -1, 0, nil, 0, false
	if rcode := Reject(q); rcode >= 0 {
		out.Rcode = rcode
		b := errorReply(dst, q, rcode)
		if rcode == wire.RcodeNotAuth && len(b) > maxSize {
			// A TSIG of long names, over UDP: sent without it and
			// with TC, for the client to ask again over TCP.
			b = b[:len(b)-q.TSIGLen()]
			binary.BigEndian.PutUint16(b[10:], binary.BigEndian.Uint16(b[10:])-1)
			b[2] |= byte(wire.FlagTC >> 8)
		}
		return b
	}
	if !q.HasQuestion {
		// A query for a cookie alone (see Reject).
		return errorReply(dst, q, wire.RcodeSuccess)
	}
	if q.Qclass != dns.ClassINET {
		out.Rcode = wire.RcodeRefused
		return errorReply(dst, q, wire.RcodeRefused)
	}
	lc := q.LowerName()
	n := ix.names[string(lc)]
	if n == nil {
		if ix.cuts {
			if cut, off := ix.delegated(lc); cut != nil {
				out.ZoneSlot, out.Referral, out.CutOff = cut.zone.slot, true, off
				return refer(dst, q, cut, off, maxSize)
			}
		}
		z, off := ix.findZone(lc)
		if z == nil {
			out.Rcode = wire.RcodeRefused
			return errorReply(dst, q, wire.RcodeRefused)
		}
		out.ZoneSlot, out.Rcode = z.slot, wire.RcodeNXDomain
		if q.DO && z.signing != nil {
			return ix.signedNXDomain(dst, q, z, lc, maxSize)
		}
		return nxdomain(dst, q, z, off, maxSize)
	}
	out.ZoneSlot = n.zone.slot
	if n.cut != nil && (q.Qtype != dns.TypeDS || n.cut != n) {
		out.Referral, out.CutOff = true, q.NameLen-n.cut.wlen
		return refer(dst, q, n.cut, out.CutOff, maxSize)
	}
	if q.Qtype-dns.TypeRRSIG <= dns.TypeNSEC-dns.TypeRRSIG && n.nsec != nil {
		// RRSIG or NSEC (one comparison) at an owner of a signed
		// zone's NSEC chain: NODATA could only deny them with the
		// NSEC, whose type bitmap lists both. NSEC is answered with
		// itself; RRSIG is REFUSED, as from PowerDNS: the RRSIGs are
		// made per answer, and a GslbRecord's answer is the client's,
		// so there is no one RRSIG RRset to send.
		if q.Qtype == dns.TypeNSEC {
			out.Rcode = n.nsec.rcode
			return patch(dst, q, n.nsec, n.zone, 0, maxSize)
		}
		out.Rcode = wire.RcodeRefused
		return errorReply(dst, q, wire.RcodeRefused)
	}
	if rec := liveRecord(n, q); rec != nil {
		return ix.respondLive(dst, q, rec, src, maxSize, out)
	}
	a, scope := ix.choose(n, q, src)
	out.Rcode = a.rcode
	out.Slots = a.slots
	return patch(dst, q, a, n.zone, scope, maxSize)
}

// Reject is the rcode of the error reply q gets whatever it asks, or -1,
// in this order: NOTAUTH for a TSIG record, as the server knows no key
// (RFC 8945 section 5.2.2; see wire.Query.BadKey); BADVERS for an EDNS
// version other than 0 in a well-formed query with a question, whatever
// its opcode (RFC 6891 section 6.1.3); NOTIMP for an opcode other than
// QUERY (even on a header alone); FORMERR for a malformed query, and one
// without a question unless it asks for a server cookie (RFC 7873 section
// 5.4: NOERROR, or BADCOOKIE); BADCOOKIE when the server judged the
// query's server cookie so (see wire.ReplyOptions); NOTIMP for zone
// transfers, which this server does not serve (as gdnsd).
func Reject(q *wire.Query) int {
	switch {
	case q.EDNS && q.Version > 0 && !q.FormErr && q.HasQuestion:
		return wire.RcodeBadVers
	case q.Opcode != 0:
		if q.BadKey {
			return wire.RcodeNotAuth
		}
		return wire.RcodeNotImp
	case q.FormErr, !q.HasQuestion && !q.Reply.Cookie:
		if q.BadKey {
			return wire.RcodeNotAuth
		}
		return wire.RcodeFormErr
	case q.Reply.BadCookie:
		return wire.RcodeBadCookie
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		return wire.RcodeNotImp
	}
	return -1
}

// UDPLimit is the largest UDP reply to q: 512 without EDNS, else the
// client's payload size capped at the advertised size.
func UDPLimit(q *wire.Query) int {
	if !q.EDNS {
		return 512
	}
	return max(512, min(int(q.UDPSize), wire.AdvertisedUDPSize))
}

// findZone finds the zone holding a lower-case wire name and the offset of
// the apex inside the name.
func (ix *Index) findZone(lc []byte) (*zone, int) {
	for off := 0; off < len(lc); off += int(lc[off]) + 1 {
		if z := ix.zones[string(lc[off:])]; z != nil {
			return z, off
		}
		if lc[off] == 0 {
			break
		}
	}
	return nil, 0
}

// choose picks the node's answer for the query and the answer's ECS scope.
func (ix *Index) choose(n *node, q *wire.Query, src netip.Addr) (*answer, uint8) {
	if q.Qtype == dns.TypeANY {
		// RFC 8482's HINFO stands for a name's records: a name that has
		// none (an empty non-terminal) has NODATA, and a CNAME, which
		// stands alone, is answered with itself.
		if len(n.rrsets) == 0 {
			return n.nodata, 0
		}
		if rs := n.find(dns.TypeCNAME); rs != nil && rs.rec == nil {
			return rs.static, 0
		}
		return n.any, 0
	}
	rs := n.find(q.Qtype)
	if rs == nil {
		rs = n.find(dns.TypeCNAME)
	}
	alias := false
	if rs == nil && q.Qtype == dns.TypeCNAME {
		// The CNAME of a name origin, for the clients it is ranked
		// first for; NODATA, as widely scoped, for the others.
		rs, alias = n.aliasRecord(), true
	}
	switch {
	case rs == nil:
		return n.nodata, 0
	case rs.rec == nil:
		return rs.static, 0
	}
	addr := clientAddr(q, src)
	leaf := ix.table.Lookup(addr)
	a, scope := rs.rec.pick(leaf.Class, leaf.V6, leaf.Index, leaf.Bits, addr.Unmap())
	if scope > 0 || !rs.rec.locationFree {
		scope = familyScope(addr, scope)
	}
	if alias && !a.cname {
		return n.nodata, scope
	}
	return a, scope
}

// familyScope is the ECS scope, as a prefix of the client address addr as
// the query gave it, of an answer whose scope in the table's family is
// scope. ::ffff:0:0/96 is looked up as IPv4: the scope of an address in
// it is the IPv4 scope after those 96 bits (an IPv4 /24 is an IPv6 /120,
// not the IPv6 /24 a resolver would cache the answer for), and the scope
// of any other IPv6 address leaves it out.
func familyScope(addr netip.Addr, scope uint8) uint8 {
	if !addr.Is6() {
		return scope
	}
	b := addr.As16()
	hi, mid := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint32(b[8:12])^0xffff
	switch {
	case hi != 0:
		return max(scope, uint8(bits.LeadingZeros64(hi)+1))
	case mid != 0:
		return max(scope, uint8(64+bits.LeadingZeros32(mid)+1))
	}
	return mappedBits + scope // in ::ffff:0:0/96
}

// mappedBits is the length of ::ffff:0:0/96.
const mappedBits = 96

// clientAddr is the address a query is steered by: the ECS address when the
// client sent one with a non-zero source prefix, else the source address.
func clientAddr(q *wire.Query, src netip.Addr) netip.Addr {
	if !q.ECS || q.ECSSource == 0 {
		return src
	}
	if q.ECSFamily == 1 {
		return netip.AddrFrom4([4]byte(q.ECSAddr[:4]))
	}
	return netip.AddrFrom16(q.ECSAddr)
}

// patch copies a pre-packed answer of zone z into dst and makes it the
// reply to q.
func patch(dst []byte, q *wire.Query, a *answer, z *zone, scope uint8, maxSize int) []byte {
	if len(a.bytes(q.DO))+wire.OPTLen(q) > maxSize {
		// TC only when the answer itself does not fit, not for its
		// additional data (RFC 2181 section 9), which is left out.
		at := a.extra(q.DO)
		if at == 0 || at+wire.OPTLen(q) > maxSize {
			return truncated(dst, q, a.rcode)
		}
		b := append(dst[:0], a.bytes(q.DO)[:at]...)
		binary.BigEndian.PutUint16(b[10:], 0)
		return makeReply(b, q, a.rcode, scope)
	}
	return makeReply(a.appendTo(dst[:0], q.DO, z), q, a.rcode, scope)
}

// makeReply turns b, a copied or assembled answer whose question is the
// node's canonical name, into the reply to q: its ID, RD (CD is left
// clear, see wire.PutHeader), the question as asked, and the OPT record.
func makeReply(b []byte, q *wire.Query, rcode int, scope uint8) []byte {
	if q.ECS && q.ECSSource == 0 {
		scope = 0
	}
	binary.BigEndian.PutUint16(b, q.ID)
	b[2] |= byte(q.Flags>>8) & byte(wire.FlagRD>>8)
	copy(b[12:], q.QName())
	binary.BigEndian.PutUint16(b[12+q.NameLen:], q.Qtype)
	if q.EDNS {
		binary.BigEndian.PutUint16(b[10:], binary.BigEndian.Uint16(b[10:])+1)
		b = wire.AppendOPT(b, q, rcode, scope)
	}
	return b
}

func arCount(q *wire.Query) uint16 {
	if q.EDNS {
		return 1
	}
	return 0
}

func qdCount(q *wire.Query) uint16 {
	if q.HasQuestion {
		return 1
	}
	return 0
}

// errorReply is a reply with no records: the header, the question if any,
// and the OPT record if the query had one; a NOTAUTH reply ends with the
// unsigned TSIG record of the error BADKEY (see wire.Query.BadKey).
func errorReply(dst []byte, q *wire.Query, rcode int) []byte {
	b := dst[:12]
	ar := arCount(q)
	if rcode == wire.RcodeNotAuth {
		ar++
	}
	wire.PutHeader(b, q, false, rcode, qdCount(q), 0, 0, ar)
	if q.HasQuestion {
		b = wire.AppendQuestion(b, q)
	}
	if q.EDNS {
		b = wire.AppendOPT(b, q, rcode, 0)
	}
	if rcode == wire.RcodeNotAuth {
		b = wire.AppendTSIG(b, q)
	}
	return b
}

// truncated is an authoritative reply with TC set and no records.
func truncated(dst []byte, q *wire.Query, rcode int) []byte {
	b := dst[:12]
	wire.PutHeader(b, q, true, rcode, 1, 0, 0, arCount(q))
	b[2] |= byte(wire.FlagTC >> 8)
	b = wire.AppendQuestion(b, q)
	if q.EDNS {
		b = wire.AppendOPT(b, q, rcode, 0)
	}
	return b
}

// nxdomain answers a name that does not exist in zone z, whose apex starts
// at offset off of the question name.
func nxdomain(dst []byte, q *wire.Query, z *zone, off, maxSize int) []byte {
	if 12+q.NameLen+4+2+len(z.negSOA)+wire.OPTLen(q) > maxSize {
		return truncated(dst, q, wire.RcodeNXDomain)
	}
	b := dst[:12]
	wire.PutHeader(b, q, true, wire.RcodeNXDomain, 1, 0, 1, arCount(q))
	b = wire.AppendQuestion(b, q)
	b = binary.BigEndian.AppendUint16(b, uint16(0xC000|(12+off)))
	b = append(b, z.negSOA...)
	if q.EDNS {
		b = wire.AppendOPT(b, q, wire.RcodeNXDomain, 0)
	}
	return b
}

// ErrorReply writes a reply with no records and the given rcode: the
// header, the question if the query had one, and an OPT record if it had
// one. It is for servers with no index yet, or requests that do not parse.
func ErrorReply(dst []byte, q *wire.Query, rcode int) []byte { return errorReply(dst, q, rcode) }
