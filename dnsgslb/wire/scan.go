package wire

import "encoding/binary"

// ParseAny reads a query of any shape, for the packets Parse leaves to the
// fallback: records in the answer or authority section, several additional
// records, a malformed question. It walks every record and sets
// FormErr for what RFC 1035 and RFC 6891 answer with FORMERR: no question
// but for a cookie (HasQuestion is false) or several, a question without
// its type and class or with a compression pointer, a record running past
// the end, an OPT record outside the additional section, with an owner
// other than the root, or more than one, or a TSIG record that is not the
// last or does not parse; a TSIG record that does sets BadKey. It does
// not allocate.
func ParseAny(b []byte, q *Query) Result {
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
	off := headerLen
	if qd == 1 {
		end, ok := question(b, q)
		if !ok {
			q.FormErr = true
			return OK
		}
		off = end
	} else {
		// No question is a FORMERR unless the query asks for a
		// cookie (RFC 7873 section 5.4; see index.Reject); several
		// are. The OPT record counts for the reply either way.
		q.FormErr = qd > 1
		for range qd {
			end, ok := skipName(b, off)
			if !ok || end+4 > len(b) {
				return OK
			}
			off = end + 4
		}
	}
	sawOPT := false
	for i := 0; i < int(an)+int(ns)+int(ar); i++ {
		owner := off
		end, ok := skipName(b, off)
		if !ok || end+10 > len(b) {
			q.FormErr = true
			return OK
		}
		rtype := binary.BigEndian.Uint16(b[end:])
		rdlen := int(binary.BigEndian.Uint16(b[end+8:]))
		rdata := end + 10
		if rdata+rdlen > len(b) {
			q.FormErr = true
			return OK
		}
		if rtype == typeTSIG {
			// The last record, in the additional section (RFC 8945
			// section 5.1).
			last := i == int(an)+int(ns)+int(ar)-1
			q.FormErr = true
			q.BadKey = last && int(ar) > 0 && setTSIG(q, b, owner, rdata, rdlen)
			return OK
		}
		if rtype == typeOPT {
			if i < int(an)+int(ns) || sawOPT || !rootName(b, owner) {
				q.FormErr = true
				return OK
			}
			sawOPT = true
			setOPT(q, b[end+2:end+10], b[rdata:rdata+rdlen])
		}
		off = rdata + rdlen
	}
	return OK
}

// question reads the question at offset 12 into q and returns the offset
// after it; false when the name is malformed or the type and class are
// missing. A compression pointer in the name is malformed: it must point
// to a prior name (RFC 1035 section 4.1.4), and nothing but the header
// comes before the question.
func question(b []byte, q *Query) (int, bool) {
	var name [maxNameWire]byte
	n, end, ok := readName(b, headerLen, name[:])
	if !ok || end+4 > len(b) {
		return 0, false
	}
	q.SetName(name[:n])
	q.HasQuestion = true
	q.Qtype = binary.BigEndian.Uint16(b[end:])
	q.Qclass = binary.BigEndian.Uint16(b[end+2:])
	return end + 4, true
}

// skipName returns the offset after the name at off: after its root label
// or its compression pointer.
func skipName(b []byte, off int) (int, bool) {
	for {
		if off >= len(b) {
			return 0, false
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xC0 == 0xC0:
			if off+2 > len(b) {
				return 0, false
			}
			return off + 2, true
		case l > 63:
			return 0, false // reserved label types
		}
		off += 1 + l
	}
}

// rootName says whether the name at off is the root: a zero byte, or a
// pointer to one.
func rootName(b []byte, off int) bool {
	if b[off] == 0 {
		return true
	}
	if b[off]&0xC0 != 0xC0 {
		return false
	}
	p := int(binary.BigEndian.Uint16(b[off:]) & 0x3FFF)
	return p < len(b) && b[p] == 0
}
