package wire_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// tsigQuery is a query for example.com. A with an OPT record and a TSIG
// record for the key Key.Example. (a name in upper and lower case).
func tsigQuery(t *testing.T) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeA)
	m.Id = 0x1234
	m.SetEdns0(1232, false)
	m.Extra = append(m.Extra, &dns.TSIG{
		Hdr:       dns.RR_Header{Name: "Key.Example.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm: "HMAC-SHA256.", TimeSigned: 1_800_000_000, Fudge: 300,
		MACSize: 32, MAC: strings.Repeat("ab", 32), OrigId: 0x4321, OtherLen: 2, OtherData: "abcd",
	})
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTSIGBadKey: a query's TSIG record is answered with the unsigned
// TSIG of the error BADKEY (RFC 8945 section 5.2.2): the key and algorithm
// names in lower case, time signed, fudge and original ID copied, no MAC
// and no other data.
func TestTSIGBadKey(t *testing.T) {
	b := tsigQuery(t)
	var q wire.Query
	if res := wire.Parse(b, &q); res != wire.Fallback {
		t.Fatalf("Parse = %d, want Fallback", res)
	}
	if res := wire.ParseAny(b, &q); res != wire.OK || !q.BadKey || !q.EDNS {
		t.Fatalf("ParseAny = %d, BadKey %v EDNS %v; want OK, true, true", res, q.BadKey, q.EDNS)
	}
	rr, _, err := dns.UnpackRR(wire.AppendTSIG(nil, &q), 0)
	if err != nil {
		t.Fatalf("the reply's TSIG does not unpack: %v", err)
	}
	got := rr.(*dns.TSIG)
	want := &dns.TSIG{
		Hdr:       dns.RR_Header{Name: "key.example.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY, Rdlength: got.Hdr.Rdlength},
		Algorithm: "hmac-sha256.", TimeSigned: 1_800_000_000, Fudge: 300, OrigId: 0x4321, Error: dns.RcodeBadKey,
	}
	if !dns.IsDuplicate(got, want) || got.Hdr.Ttl != 0 || got.MACSize != 0 || got.OtherLen != 0 {
		t.Errorf("reply TSIG\n got %v\nwant %v", got, want)
	}
}

// TestTSIGMalformed: a TSIG record that is not the last, that is not in
// the additional section, or whose data does not parse is a FORMERR, not
// BADKEY (RFC 8945 section 5.1 and 5.2).
func TestTSIGMalformed(t *testing.T) {
	good := tsigQuery(t)
	optAt := 12 + len(question())
	tsigAt := optAt + 11
	tsig := good[tsigAt:]
	// rdlen is the offset of the TSIG's RDLENGTH low byte, past its owner
	// Key.Example. (13 bytes), type, class and TTL.
	const rdlen = 13 + 2 + 2 + 4 + 1
	tests := []struct {
		desc string
		b    []byte
	}{
		{"TSIG before the OPT", cat(header(1, 0, 0, 2), question(), tsig, opt(0))},
		{"two TSIG records", cat(header(1, 0, 0, 2), question(), tsig, tsig)},
		{"TSIG in the answer section", cat(header(1, 1, 0, 0), question(), tsig)},
		{"TSIG data one byte short", func() []byte {
			b := cat(header(1, 0, 0, 1), question(), tsig[:len(tsig)-1])
			b[len(b)-(len(tsig)-1)+rdlen]--
			return b
		}()},
		{"TSIG data one byte long", func() []byte {
			b := cat(header(1, 0, 0, 1), question(), tsig, []byte{0})
			b[len(b)-(len(tsig)+1)+rdlen]++
			return b
		}()},
		{"TSIG owner pointing forward", cat(header(1, 0, 0, 1), question(), []byte{0xC0, byte(12 + len(question()) + 2)}, tsig[len("Key.Example.")+1:])},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var q wire.Query
			if res := wire.ParseAny(tc.b, &q); res != wire.OK || !q.FormErr || q.BadKey {
				t.Errorf("ParseAny = %d, FormErr %v BadKey %v; want OK, true, false", res, q.FormErr, q.BadKey)
			}
		})
	}
	// A TSIG owned by a pointer back to a prior name is read.
	b := cat(header(1, 0, 0, 1), question(), []byte{0xC0, 12 + 8}, tsig[len("Key.Example.")+1:])
	var q wire.Query
	if wire.ParseAny(b, &q); !q.BadKey || !bytes.HasPrefix(wire.AppendTSIG(nil, &q), []byte{3, 'c', 'o', 'm', 0, 0, 250}) {
		t.Errorf("TSIG owned by a pointer to com.: BadKey %v, reply TSIG % x", q.BadKey, wire.AppendTSIG(nil, &q))
	}
}
