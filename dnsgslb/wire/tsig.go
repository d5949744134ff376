package wire

import "encoding/binary"

const (
	typeTSIG = 250
	// tsigBadKey is the TSIG error for a key the server does not know.
	tsigBadKey = 17
	// maxTSIGReply is the largest TSIG record of a reply: owner and
	// algorithm names of 255 bytes, type, class, TTL and RDLENGTH, and
	// the fixed RDATA fields with no MAC and no other data.
	maxTSIGReply = 2*maxNameWire + 10 + 16
)

// setTSIG reads the TSIG record whose owner starts at offset owner of b
// and whose RDATA is b[rdata:rdata+rdlen], and keeps for the reply the
// unsigned TSIG RFC 8945 section 5.2.2 asks of a server that does not
// know the key, which this one never does (it has none): the key and
// algorithm names in lower case, the time signed, fudge and original ID
// copied, no MAC, the error BADKEY and no other data. It reports false for
// a record that does not parse, which is a FORMERR (RFC 8945 section 5.2).
func setTSIG(q *Query, b []byte, owner, rdata, rdlen int) bool {
	t := q.tsig[:]
	n, _, ok := readName(b, owner, t)
	if !ok {
		return false
	}
	Lower(t, t[:n])
	n += copy(t[n:], []byte{0, typeTSIG, 0, 255, 0, 0, 0, 0, 0, 0}) // class ANY, TTL 0, RDLENGTH below
	start := n
	alg, end, ok := readName(b, rdata, t[n:])
	if !ok {
		return false
	}
	Lower(t[n:], t[n:n+alg])
	n += alg
	// Time signed (6), fudge (2), MAC size (2), MAC, original ID (2),
	// error (2), other length (2), other data.
	stop := rdata + rdlen
	if end+10 > stop {
		return false
	}
	mac := int(binary.BigEndian.Uint16(b[end+8:]))
	id := end + 10 + mac
	if id+6 > stop || id+6+int(binary.BigEndian.Uint16(b[id+4:])) != stop {
		return false
	}
	n += copy(t[n:], b[end:end+8])
	n += copy(t[n:], []byte{0, 0, b[id], b[id+1], 0, tsigBadKey, 0, 0})
	binary.BigEndian.PutUint16(t[start-2:], uint16(n-start))
	q.tsigLen = uint16(n)
	return true
}

// TSIGLen is the length of the TSIG record AppendTSIG appends.
func (q *Query) TSIGLen() int { return int(q.tsigLen) }

// AppendTSIG appends the TSIG record of the reply to a query that carried
// one (see BadKey), or nothing.
func AppendTSIG(b []byte, q *Query) []byte { return append(b, q.tsig[:q.tsigLen]...) }

// readName copies the name at offset off of b into dst (which holds 255
// bytes) uncompressed, and returns its length and the offset after it as
// written at off. It reports false for a malformed name: past the end,
// longer than 255 bytes, with a reserved label type, or with a pointer
// that does not point before the name or the previous pointer's target
// (RFC 1035 section 4.1.4: to a prior occurrence), or into the header.
func readName(b []byte, off int, dst []byte) (n, end int, ok bool) {
	end, limit := -1, off
	for {
		if off >= len(b) {
			return 0, 0, false
		}
		l := int(b[off])
		switch {
		case l == 0:
			dst[n] = 0
			if end < 0 {
				end = off + 1
			}
			return n + 1, end, true
		case l&0xC0 == 0xC0:
			if off+2 > len(b) {
				return 0, 0, false
			}
			p := int(binary.BigEndian.Uint16(b[off:]) & 0x3FFF)
			if p < headerLen || p >= limit {
				return 0, 0, false
			}
			if end < 0 {
				end = off + 2
			}
			off, limit = p, p
		case l > 63:
			return 0, 0, false
		default:
			if off+1+l > len(b) || n+1+l >= maxNameWire {
				return 0, 0, false
			}
			n += copy(dst[n:], b[off:off+1+l])
			off += 1 + l
		}
	}
}
