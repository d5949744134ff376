package wire

import "net/netip"

// Header flag bits, in the second 16-bit word of a message.
const (
	FlagQR = 1 << 15
	FlagAA = 1 << 10
	FlagTC = 1 << 9
	FlagRD = 1 << 8
	FlagCD = 1 << 4
)

// Query is a parsed request. It holds copies, never slices of the packet,
// so a caller may reuse the packet buffer.
type Query struct {
	// head is everything a parse resets.
	head
	// Name is the question name in wire format, in the case it was asked,
	// valid up to NameLen; lower is the same in lower case (see SetName).
	// A parse does not clear them: it writes the NameLen bytes it reads.
	Name  [255]byte
	lower [255]byte
	// tsig is the TSIG record of the reply, valid up to tsigLen (see
	// BadKey).
	tsig [maxTSIGReply]byte
}

// head is the part of a Query that a parse resets; see Query.
type head struct {
	ID     uint16
	Flags  uint16
	Opcode uint8
	// HasQuestion is false when the request carried no question; Name,
	// Qtype and Qclass are then zero. Such a request is a FORMERR unless
	// it asks for a server cookie (RFC 7873 section 5.4).
	HasQuestion bool
	// NameLen is the length of the question name (Name).
	NameLen int
	Qtype   uint16
	Qclass  uint16

	EDNS    bool
	UDPSize uint16
	Version uint8
	DO      bool

	// ECS is true when the request carried a well-formed Client Subnet
	// option. ECSAddr holds the address with every bit past ECSSource zero.
	ECS       bool
	ECSFamily uint16
	ECSSource uint8
	ECSAddr   [16]byte

	// Cookie is true when the request carried a well-formed COOKIE option
	// (RFC 7873): ClientCookie, and ServerCookie[:ServerCookieLen] when the
	// client had one (0 or 8 to 32 bytes).
	Cookie          bool
	ClientCookie    [8]byte
	ServerCookieLen uint8
	ServerCookie    [32]byte
	// NSID says the request asked for the server's NSID (RFC 5001).
	NSID bool
	// Keepalive says the request carried an edns-tcp-keepalive option
	// (RFC 7828); KeepaliveLen is its length, which a client must leave 0.
	Keepalive    bool
	KeepaliveLen uint16

	// FormErr says the request is malformed in a way that is answered with
	// FORMERR (a bad EDNS option, several questions, a bad record), or,
	// with BadKey, that it is answered with NOTAUTH.
	FormErr bool
	// BadKey says the request carried a well-formed TSIG record, as the
	// last record: the server knows no key, and the reply is NOTAUTH with
	// the TSIG error BADKEY (RFC 8945 section 5.2.2; see AppendTSIG).
	// ParseAny sets FormErr with it, so that the error is found on the
	// rare path of a reply. tsigLen is the length of the reply's TSIG.
	BadKey  bool
	tsigLen uint16

	// Reply holds what the server adds to the reply's OPT record.
	Reply ReplyOptions
}

// ReplyOptions are the EDNS options of a reply besides ECS, set by the
// server after parsing and appended by AppendOPT.
type ReplyOptions struct {
	// Cookie sends the query's client cookie with ServerCookie.
	Cookie       bool
	ServerCookie [16]byte
	// NSID is the server's identifier; nil sends none.
	NSID []byte
	// Keepalive sends edns-tcp-keepalive with Timeout, in units of 100 ms.
	Keepalive bool
	Timeout   uint16
	// BadCookie says the query's server cookie is stale or invalid and the
	// reply is BADCOOKIE (RFC 7873 section 5.2.3).
	BadCookie bool
}

// QName returns the question name in wire format.
func (q *Query) QName() []byte { return q.Name[:q.NameLen] }

// LowerName returns the question name in wire format and lower case, for
// lookups and keys that ignore case.
func (q *Query) LowerName() []byte { return q.lower[:q.NameLen] }

// SetName sets the question name (wire format, at most 255 bytes) and its
// lower-case form.
func (q *Query) SetName(name []byte) {
	q.NameLen = copy(q.Name[:], name)
	Lower(q.lower[:], name)
}

// ECSPrefix returns the client subnet of the ECS option.
func (q *Query) ECSPrefix() netip.Prefix {
	if q.ECSFamily == 1 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(q.ECSAddr[:4])), int(q.ECSSource))
	}
	return netip.PrefixFrom(netip.AddrFrom16(q.ECSAddr), int(q.ECSSource))
}

// ecsAddrLen is the number of address bytes an ECS option carries for a
// source prefix length.
func ecsAddrLen(source uint8) int { return (int(source) + 7) / 8 }
