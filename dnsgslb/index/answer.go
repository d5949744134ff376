package index

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/miekg/dns"
)

// answer is one pre-packed response: a whole message whose question is the
// node's canonical name. Serving it means copying it and patching the ID,
// flags, the question's case and type, and appending the OPT record.
type answer struct {
	msg   []byte
	rcode int
	// addrs and slots are the GSLB addresses answered and the metrics slots
	// of the candidates they came from.
	addrs []netip.Addr
	slots []int
	// cname is true for a name origin's CNAME.
	cname bool
	// signed is the answer with its RRSIGs (and NSEC records when
	// negative), for queries with the DO bit; nil outside signed zones.
	signed []byte
	// serialAt is the offset in msg of the zone's SOA serial when the
	// answer carries the SOA (a negative answer), else 0. The serial in
	// msg may be an earlier one: appendTo writes the zone's, so that a
	// zone whose serial follows the revision keeps its unsigned answers
	// from build to build. A signed answer's RRSIG covers the serial: it
	// is signed again with each (see withSerial).
	serialAt int
	// extraAt and signedExtraAt are the offsets in msg and signed of the
	// additional section (an NS RRset's addresses), 0 without one: a
	// reply too large for the client is sent without it rather than
	// truncated (RFC 2181 section 9).
	extraAt, signedExtraAt int
}

// bytes is the packed answer for a query with or without the DO bit, the
// SOA serial of msg as it was packed (see serialAt).
func (a *answer) bytes(do bool) []byte {
	if do && a.signed != nil {
		return a.signed
	}
	return a.msg
}

// extra is the offset of the additional section in bytes(do), 0 without
// one.
func (a *answer) extra(do bool) int {
	if do && a.signed != nil {
		return a.signedExtraAt
	}
	return a.extraAt
}

// appendTo appends the answer for a query with or without the DO bit in
// zone z to dst: bytes, with z's SOA serial in an unsigned negative
// answer.
func (a *answer) appendTo(dst []byte, do bool, z *zone) []byte {
	msg := a.bytes(do)
	b := append(dst, msg...)
	if a.serialAt != 0 && (!do || a.signed == nil) {
		binary.BigEndian.PutUint32(b[len(dst)+a.serialAt:], z.soa.Serial)
	}
	return b
}

// withSerial is a copy of the answer carrying the SOA serial given.
func (a *answer) withSerial(serial uint32) *answer {
	c := *a
	c.msg = slices.Clone(a.msg)
	binary.BigEndian.PutUint32(c.msg[c.serialAt:], serial)
	return &c
}

// pack builds an answer with github.com/miekg/dns.
func pack(name string, rcode int, an, ns, extra []dns.RR) (*answer, error) {
	m := &dns.Msg{
		MsgHdr:   dns.MsgHdr{Response: true, Authoritative: true, Rcode: rcode},
		Compress: true,
		Question: []dns.Question{{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}},
		Answer:   an,
		Ns:       ns,
		Extra:    extra,
	}
	b, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("pack answer for %q: %w", name, err)
	}
	a := &answer{msg: b, rcode: rcode}
	if len(extra) > 0 {
		// The records before the additional section are packed alike
		// without it: no name compresses against a later one.
		m.Extra = nil
		head, err := m.Pack()
		if err != nil {
			return nil, fmt.Errorf("pack answer for %q: %w", name, err)
		}
		a.extraAt = len(head)
	}
	return a, nil
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// addrRR is an A or AAAA record for an address.
func addrRR(name string, ttl uint32, a netip.Addr) dns.RR {
	if a.Is4() {
		return &dns.A{Hdr: hdr(name, dns.TypeA, ttl), A: a.AsSlice()}
	}
	return &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA, ttl), AAAA: a.AsSlice()}
}
