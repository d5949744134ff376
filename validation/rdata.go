package validation

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// rdataForms are the zone-file forms of the record types whose values are
// parsed as such, for error messages.
var rdataForms = map[v1.RecordType]string{
	v1.RecordType_RECORD_TYPE_MX:    `PREFERENCE EXCHANGE, such as "10 mx.example.com."`,
	v1.RecordType_RECORD_TYPE_SRV:   `PRIORITY WEIGHT PORT TARGET, such as "10 5 443 sip.example.com."`,
	v1.RecordType_RECORD_TYPE_CAA:   `FLAGS TAG VALUE, such as "0 issue ca.example.net"`,
	v1.RecordType_RECORD_TYPE_NS:    `a name server's name, such as "ns1.child.example.com."`,
	v1.RecordType_RECORD_TYPE_SVCB:  `PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3"`,
	v1.RecordType_RECORD_TYPE_HTTPS: `PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3"`,
	v1.RecordType_RECORD_TYPE_DS:    `KEYTAG ALGORITHM DIGESTTYPE DIGEST (the data anyctl dnssec ds prints), such as "12345 13 2 3B8B..."`,
}

// RecordData parses the value of a static MX, SRV, CAA, NS, SVCB, HTTPS or
// DS record owned by owner in the zone with the given apex, in zone-file
// form; relative names in it are relative to the apex. The DNS server
// builds the records it serves with it, so what validation accepts is what
// is served.
func RecordData(typ v1.RecordType, owner string, ttl uint32, value, apex string) (dns.RR, error) {
	form, ok := rdataForms[typ]
	if !ok {
		return nil, fmt.Errorf("type %s is not parsed from zone-file data", typ)
	}
	if strings.ContainsAny(value, "\n\r") {
		return nil, fmt.Errorf("a line break in the value: one value is one record")
	}
	t := strings.TrimPrefix(typ.String(), "RECORD_TYPE_")
	zp := dns.NewZoneParser(strings.NewReader(fmt.Sprintf("%s %d IN %s %s", owner, ttl, t, value)), apex, "")
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil || !ok {
		msg := fmt.Sprintf("not %s data: write %s", t, form)
		if err != nil {
			e, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "dns: "), " at line:")
			if strings.HasPrefix(e, ": ") {
				e = "bad value" + e[1:]
			}
			msg += " (" + e + ")"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("more than one record: one value is one record")
	}
	if problem := packProblem(rr); problem != "" {
		if strings.HasPrefix(problem, "its data is") {
			return nil, fmt.Errorf("not %s data: %s", t, problem)
		}
		return nil, fmt.Errorf("not %s data: write %s (%s)", t, form, problem)
	}
	return rr, nil
}

// maxRdata is the most data a DNS record holds: its length is 16 bits.
const maxRdata = 65535

// packProblem says why a parsed record cannot be packed into a DNS
// message, "" when it can: what the parser lets through but packing
// refuses, such as a DS digest that is not hexadecimal or an SVCB key
// given twice, would make a DNS server refuse the whole zone.
func packProblem(rr dns.RR) string {
	seen := map[dns.SVCBKey]bool{}
	for _, p := range svcbParams(rr) {
		if seen[p.Key()] {
			return fmt.Sprintf("key %q given twice", p.Key().String())
		}
		seen[p.Key()] = true
	}
	bare := dns.Copy(rr)
	bare.Header().Name = "."
	if n := dns.Len(bare) - 11; n > maxRdata {
		return fmt.Sprintf("its data is %d bytes, more than the %d a DNS record holds", n, maxRdata)
	}
	buf := make([]byte, dns.Len(rr)+1)
	if _, err := dns.PackRR(rr, buf, 0, nil, false); err != nil {
		msg := strings.TrimPrefix(err.Error(), "dns: ")
		if hex, ok := strings.CutPrefix(msg, "encoding/hex: "); ok {
			return "the digest is not hexadecimal: " + hex
		}
		return msg
	}
	return ""
}
