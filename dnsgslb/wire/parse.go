package wire

import "encoding/binary"

// Result says what the fast parser made of a packet.
type Result int

const (
	// OK: the query is parsed (FormErr may still be set).
	OK Result = iota
	// Fallback: the packet has an unusual shape; parse it with
	// github.com/miekg/dns and FromMsg.
	Fallback
	// Drop: not a query that deserves any reply (too short, or a response).
	Drop
)

const (
	typeOPT         = 41
	optionNSID      = 3
	optionECS       = 8
	optionCookie    = 10
	optionKeepalive = 11
	headerLen       = 12
	maxNameWire     = 255
)

// Parse reads the common query shape: one question with an uncompressed
// name, no answer or authority records, and at most one additional record,
// an OPT. It fills q and never allocates.
func Parse(b []byte, q *Query) Result {
	if len(b) < headerLen {
		return Drop
	}
	q.head = head{
		ID:     binary.BigEndian.Uint16(b),
		Flags:  binary.BigEndian.Uint16(b[2:]),
		Opcode: uint8(binary.BigEndian.Uint16(b[2:])>>11) & 0xF,
	}
	if q.Flags&FlagQR != 0 {
		return Drop
	}
	qd, an, ns, ar := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:]), binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])
	if qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return Fallback
	}
	off := headerLen
	for {
		if off >= len(b) {
			return Fallback
		}
		l := int(b[off])
		if l == 0 {
			break
		}
		if l > 63 {
			return Fallback // compression pointer or reserved label type
		}
		if off+1+l-headerLen+1 > maxNameWire {
			return Fallback
		}
		off += 1 + l
	}
	off++ // root label
	q.SetName(b[headerLen:off])
	if off+4 > len(b) {
		return Fallback
	}
	q.HasQuestion = true
	q.Qtype = binary.BigEndian.Uint16(b[off:])
	q.Qclass = binary.BigEndian.Uint16(b[off+2:])
	off += 4
	if ar == 0 {
		if off != len(b) {
			return Fallback
		}
		return OK
	}
	// The OPT record: root owner, type 41.
	if off+11 > len(b) || b[off] != 0 || binary.BigEndian.Uint16(b[off+1:]) != typeOPT {
		return Fallback
	}
	rdlen := int(binary.BigEndian.Uint16(b[off+9:]))
	if off+11+rdlen != len(b) {
		return Fallback
	}
	setOPT(q, b[off+3:off+11], b[off+11:])
	return OK
}

// setOPT reads an OPT record into q: fixed is its class, TTL and RDLENGTH
// (8 bytes), opts its RDATA. The options of an EDNS version other than 0
// are not read: the reply is BADVERS.
func setOPT(q *Query, fixed, opts []byte) {
	q.EDNS = true
	q.UDPSize = binary.BigEndian.Uint16(fixed)
	q.Version = fixed[3]
	q.DO = fixed[4]&0x80 != 0
	if q.Version == 0 {
		parseOptions(opts, q)
	}
}

// parseOptions reads EDNS options, keeping Client Subnet, COOKIE, NSID and
// edns-tcp-keepalive, and flagging malformed ones.
func parseOptions(opts []byte, q *Query) {
	for len(opts) > 0 {
		if len(opts) < 4 {
			q.FormErr = true
			return
		}
		code := binary.BigEndian.Uint16(opts)
		l := int(binary.BigEndian.Uint16(opts[2:]))
		if 4+l > len(opts) {
			q.FormErr = true
			return
		}
		body := opts[4 : 4+l]
		ok := true
		switch code {
		case optionECS:
			ok = !q.ECS && SetECS(q, body)
		case optionCookie:
			// Only the first COOKIE option counts (RFC 7873 section 5.2).
			ok = q.Cookie || setCookie(q, body)
		case optionNSID:
			q.NSID = true
		case optionKeepalive:
			q.Keepalive, q.KeepaliveLen = true, uint16(l)
		}
		if !ok {
			q.FormErr = true
			return
		}
		opts = opts[4+l:]
	}
}

// setCookie validates a COOKIE option body (RFC 7873 section 5.2.2): an
// 8-byte client cookie alone, or followed by a server cookie of 8 to 32
// bytes.
func setCookie(q *Query, body []byte) bool {
	if len(body) != 8 && (len(body) < 16 || len(body) > 40) {
		return false
	}
	q.Cookie = true
	copy(q.ClientCookie[:], body)
	q.ServerCookieLen = uint8(copy(q.ServerCookie[:], body[8:]))
	return true
}

// SetECS validates a Client Subnet option body (RFC 7871 section 6) and
// stores it in q. It reports false for a malformed option: unknown family,
// source prefix longer than the family, a non-zero scope prefix, address
// length not matching the source prefix, or address bits set past the
// source prefix.
func SetECS(q *Query, body []byte) bool {
	if len(body) < 4 || body[3] != 0 {
		return false
	}
	family := binary.BigEndian.Uint16(body)
	source := body[2]
	addr := body[4:]
	var width int
	switch family {
	case 1:
		width = 32
	case 2:
		width = 128
	case 0:
		// Some tools send family 0 with prefix 0: "no ECS, please".
		if source != 0 || len(addr) != 0 {
			return false
		}
		return true
	default:
		return false
	}
	if int(source) > width || len(addr) != ecsAddrLen(source) {
		return false
	}
	if source%8 != 0 && len(addr) > 0 {
		mask := byte(0xFF >> (source % 8))
		if addr[len(addr)-1]&mask != 0 {
			return false
		}
	}
	q.ECS = true
	q.ECSFamily = family
	q.ECSSource = source
	q.ECSAddr = [16]byte{}
	copy(q.ECSAddr[:], addr)
	return true
}
