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
	RcodeBadVers  = 16
)

// AdvertisedUDPSize is the EDNS payload size the server offers and the
// largest UDP answer it sends (DNS Flag Day 2020).
const AdvertisedUDPSize = 1232

// PutHeader writes a reply header for q into b[:12]: the query's ID, QR,
// the opcode, RD and CD copied, AA when aa, and the low four rcode bits.
func PutHeader(b []byte, q *Query, aa bool, rcode int, qd, an, ns, ar uint16) {
	flags := uint16(FlagQR) | uint16(q.Opcode)<<11 | q.Flags&(FlagRD|FlagCD) | uint16(rcode&0xF)
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

// OPTLen is the size of the OPT record AppendOPT writes for q.
func OPTLen(q *Query) int {
	if !q.EDNS {
		return 0
	}
	n := 11
	if q.ECS {
		n += 8 + ecsAddrLen(q.ECSSource)
	}
	return n
}

// AppendOPT appends the reply's OPT record: the advertised payload size, the
// extended rcode bits, DO copied, and the ECS option echoed with scope.
func AppendOPT(b []byte, q *Query, rcode int, scope uint8) []byte {
	b = append(b, 0, 0, typeOPT, byte(AdvertisedUDPSize>>8), byte(AdvertisedUDPSize&0xFF))
	var do byte
	if q.DO {
		do = 0x80
	}
	b = append(b, byte(rcode>>4), 0, do, 0)
	if !q.ECS {
		return append(b, 0, 0)
	}
	n := ecsAddrLen(q.ECSSource)
	b = binary.BigEndian.AppendUint16(b, uint16(8+n))
	b = append(b, 0, optionECS)
	b = binary.BigEndian.AppendUint16(b, uint16(4+n))
	b = binary.BigEndian.AppendUint16(b, q.ECSFamily)
	b = append(b, q.ECSSource, scope)
	return append(b, q.ECSAddr[:n]...)
}
