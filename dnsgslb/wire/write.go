package wire

import "encoding/binary"

// Rcodes the server sends. BADVERS is an extended rcode carried in the OPT
// record.
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
	// RcodeNotAuth answers a TSIG record whose key the server does not
	// know (see Query.BadKey).
	RcodeNotAuth = 9
	RcodeBadVers = 16
	// RcodeBadCookie answers a stale or invalid server cookie (RFC 7873).
	RcodeBadCookie = 23
)

// AdvertisedUDPSize is the EDNS payload size the server offers and the
// largest UDP answer it sends (DNS Flag Day 2020).
const AdvertisedUDPSize = 1232

// PutHeader writes a reply header for q into b[:12]: the query's ID, QR,
// the opcode, AA when aa, and the low four rcode bits; RD copied for a
// QUERY, the only opcode that defines it. CD is left clear, as an
// authoritative server's (RFC 4035 section 3.1.6).
func PutHeader(b []byte, q *Query, aa bool, rcode int, qd, an, ns, ar uint16) {
	flags := uint16(FlagQR) | uint16(q.Opcode)<<11 | uint16(rcode&0xF)
	if q.Opcode == 0 {
		flags |= q.Flags & FlagRD
	}
	if aa {
		flags |= FlagAA
	}
	binary.BigEndian.PutUint16(b, q.ID)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], qd)
	binary.BigEndian.PutUint16(b[6:], an)
	binary.BigEndian.PutUint16(b[8:], ns)
	binary.BigEndian.PutUint16(b[10:], ar)
}

// AppendQuestion appends q's question as asked.
func AppendQuestion(b []byte, q *Query) []byte {
	b = append(b, q.QName()...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, q.Qtype), q.Qclass)
}

// OPTLen is the largest OPT record AppendOPT writes for q.
func OPTLen(q *Query) int {
	if !q.EDNS {
		return 0
	}
	return 11 + optionsLen(q)
}

// optionsLen is the size of the options a reply to q carries.
func optionsLen(q *Query) int {
	n := 0
	if q.ECS {
		n += 8 + ecsAddrLen(q.ECSSource)
	}
	if q.Reply.Cookie {
		n += 4 + 8 + len(q.Reply.ServerCookie)
	}
	if q.Reply.NSID != nil {
		n += 4 + len(q.Reply.NSID)
	}
	if q.Reply.Keepalive {
		n += 6
	}
	return n
}

// AppendOPT appends the reply's OPT record: the advertised payload size, the
// extended rcode bits, DO copied, the ECS option echoed with scope, and the
// options of q.Reply. A BADVERS reply carries no option: the query's are
// those of a version the server does not speak.
func AppendOPT(b []byte, q *Query, rcode int, scope uint8) []byte {
	b = append(b, 0, 0, typeOPT, byte(AdvertisedUDPSize>>8), byte(AdvertisedUDPSize&0xFF))
	var do byte
	if q.DO {
		do = 0x80
	}
	b = append(b, byte(rcode>>4), 0, do, 0)
	if rcode == RcodeBadVers {
		return append(b, 0, 0)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(optionsLen(q)))
	if q.ECS {
		n := ecsAddrLen(q.ECSSource)
		b = append(b, 0, optionECS)
		b = binary.BigEndian.AppendUint16(b, uint16(4+n))
		b = binary.BigEndian.AppendUint16(b, q.ECSFamily)
		b = append(b, q.ECSSource, scope)
		b = append(b, q.ECSAddr[:n]...)
	}
	r := &q.Reply
	if r.Cookie {
		b = append(b, 0, optionCookie, 0, byte(8+len(r.ServerCookie)))
		b = append(b, q.ClientCookie[:]...)
		b = append(b, r.ServerCookie[:]...)
	}
	if r.NSID != nil {
		b = append(b, 0, optionNSID)
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.NSID)))
		b = append(b, r.NSID...)
	}
	if r.Keepalive {
		b = append(b, 0, optionKeepalive, 0, 2)
		b = binary.BigEndian.AppendUint16(b, r.Timeout)
	}
	return b
}
