package wire_test

import (
	"encoding/binary"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// header is a query header with the given section counts.
func header(qd, an, ns, ar uint16) []byte {
	b := []byte{0x12, 0x34, 0, 0}
	for _, n := range []uint16{qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, n)
	}
	return b
}

var exampleCom = []byte{7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0}

// question is example.com. A IN.
func question() []byte { return append(append([]byte(nil), exampleCom...), 0, 1, 0, 1) }

// opt is an OPT record with the given owner and no options.
func opt(owner ...byte) []byte {
	return append(owner, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestParseAny(t *testing.T) {
	aRecord := []byte{0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1}
	tests := []struct {
		desc    string
		b       []byte
		formErr bool
		edns    bool
	}{
		{"plain", cat(header(1, 0, 0, 0), question()), false, false},
		{"OPT", cat(header(1, 0, 0, 1), question(), opt(0)), false, true},
		{"OPT owned by a pointer to the root", cat(header(1, 0, 0, 1), question(), opt(0xC0, 24)), false, true},
		// A pointer must point to a prior name (RFC 1035 section 4.1.4):
		// none comes before the question.
		{"question pointing forward", cat(header(1, 0, 0, 0), []byte{0xC0, 18, 0, 1, 0, 1}, exampleCom), true, false},
		{"question pointing into the header", cat([]byte{0, 0}, header(1, 0, 0, 0)[2:], []byte{0xC0, 0, 0, 1, 0, 1}), true, false},
		{"question pointing to itself", cat(header(1, 0, 0, 0), []byte{1, 'x', 0xC0, 12, 0, 1, 0, 1}), true, false},
		{"an A record in the answer section", cat(header(1, 1, 0, 0), question(), aRecord), false, false},
		{"no question (a FORMERR unless it asks for a cookie)", header(0, 0, 0, 0), false, false},
		{"no question, OPT", cat(header(0, 0, 0, 1), opt(0)), false, true},
		{"two questions", cat(header(2, 0, 0, 0), question(), question()), true, false},
		{"question without type and class", cat(header(1, 0, 0, 0), exampleCom), true, false},
		{"question without class", cat(header(1, 0, 0, 0), exampleCom, []byte{0, 1}), true, false},
		{"two OPT records", cat(header(1, 0, 0, 2), question(), opt(0), opt(0)), true, true},
		{"OPT with a non-root owner", cat(header(1, 0, 0, 1), question(), opt(exampleCom...)), true, false},
		{"OPT in the answer section", cat(header(1, 1, 0, 0), question(), opt(0)), true, false},
		{"OPT in the authority section", cat(header(1, 0, 1, 0), question(), opt(0)), true, false},
		{"record past the end", cat(header(1, 0, 0, 1), question(), opt(0)[:8]), true, false},
		{"record count past the end", cat(header(1, 0, 0, 2), question(), opt(0)), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var q wire.Query
			if got := wire.ParseAny(tc.b, &q); got != wire.OK {
				t.Fatalf("ParseAny = %d, want OK", got)
			}
			if q.FormErr != tc.formErr || q.EDNS != tc.edns {
				t.Errorf("FormErr %v EDNS %v, want %v %v", q.FormErr, q.EDNS, tc.formErr, tc.edns)
			}
			if !tc.formErr && q.HasQuestion != (q.NameLen > 0) {
				t.Errorf("HasQuestion %v with a name of %d bytes", q.HasQuestion, q.NameLen)
			}
			if !tc.formErr && q.HasQuestion && string(q.QName()) != string(exampleCom) {
				t.Errorf("name % x, want % x", q.QName(), exampleCom)
			}
		})
	}
}
