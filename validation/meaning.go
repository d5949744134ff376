package validation

import (
	"cmp"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// emptyData reports whether a zone-file value holds no data: blank, only
// parentheses, or the generic form of empty data (RFC 3597). The parser
// takes it for a record with zeroed fields: an MX of preference 0 to the
// root (the null MX of RFC 7505, which says the domain takes no mail), a
// DS without digest, an NS without name.
func emptyData(v string) bool {
	f := strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(v))
	return len(f) == 0 || len(f) == 2 && f[0] == `\#` && f[1] == "0"
}

// emptyMsg is the message for an empty value of type typ.
func emptyMsg(typ v1.RecordType) string {
	msg := "empty: write " + rdataForms[typ]
	if typ == v1.RecordType_RECORD_TYPE_MX {
		msg += ` ("0 ." is the null MX of RFC 7505)`
	}
	return msg
}

// commentProblem refuses a ';' outside quotes in a zone-file value: it
// starts a comment, and the parser drops what follows it.
func commentProblem(v string) string {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return fmt.Sprintf("';' starts a comment in zone-file data, and %q would be dropped: leave it out, or quote the ';'", strings.TrimSpace(v[i:]))
			}
		}
	}
	return ""
}

// targetField is the position, in a value's fields, of the name a record
// of each type points at.
var targetField = map[v1.RecordType]int{
	v1.RecordType_RECORD_TYPE_NS:    0,
	v1.RecordType_RECORD_TYPE_MX:    1,
	v1.RecordType_RECORD_TYPE_SRV:   3,
	v1.RecordType_RECORD_TYPE_SVCB:  1,
	v1.RecordType_RECORD_TYPE_HTTPS: 1,
}

// isAddress reports whether a name as written is an IP address, with or
// without a trailing dot.
func isAddress(name string) bool {
	_, err := netip.ParseAddr(strings.TrimSuffix(name, "."))
	return err == nil
}

// dataProblem says why a parsed static record, value v, would be served
// with another meaning than written, or as a record clients must ignore;
// "" when it would not.
func dataProblem(typ v1.RecordType, v string, rr dns.RR) string {
	if i, ok := targetField[typ]; ok {
		name := targetName(rr)
		if f := strings.Fields(v); i < len(f) && isAddress(f[i]) {
			return fmt.Sprintf("%q is an address where a name is wanted, and would be served as the name %q: name a host with that address", f[i], name)
		}
		if p := domainProblem(name); name != "." && p != "" && !strings.HasPrefix(p, "longer than") {
			return fmt.Sprintf("the name %s: %s", resource.Quote(name), p)
		}
		if _, ok := dns.IsDomainName(name); !ok {
			msg := fmt.Sprintf("%s is longer than a domain name may be (255 bytes on the wire): shorten it", resource.Quote(name))
			if f := strings.Fields(v); i < len(f) && !strings.HasSuffix(f[i], ".") {
				msg += " (a name without a trailing dot is relative to the zone)"
			}
			return msg
		}
	}
	switch x := rr.(type) {
	case *dns.DS:
		return digestProblem(x)
	case *dns.SVCB:
		return cmp.Or(aliasParamsProblem(x.Priority, x.Value), svcbProblem(x.Value, false))
	case *dns.HTTPS:
		return cmp.Or(aliasParamsProblem(x.Priority, x.Value), svcbProblem(x.Value, false))
	}
	return ""
}

// aliasParamsProblem refuses parameters on an SVCB or HTTPS record of
// priority 0: such a record is in AliasMode, which only names another
// name, and its parameters are ignored by every client (RFC 9460 section
// 2.4.2), so what was written would never take effect.
func aliasParamsProblem(priority uint16, params []dns.SVCBKeyValue) string {
	if priority != 0 || len(params) == 0 {
		return ""
	}
	return "priority 0 is AliasMode, whose parameters clients ignore (RFC 9460 section 2.4.2): leave them out, or give a priority of 1 or more for a ServiceMode record that carries them"
}

// targetName is the name a record of a type in targetField points at.
func targetName(rr dns.RR) string {
	switch x := rr.(type) {
	case *dns.NS:
		return x.Ns
	case *dns.MX:
		return x.Mx
	case *dns.SRV:
		return x.Target
	case *dns.SVCB:
		return x.Target
	case *dns.HTTPS:
		return x.Target
	}
	return ""
}

// digestLengths are the digest lengths in bytes of the DS digest types.
var digestLengths = map[uint8]struct {
	name string
	n    int
}{
	dns.SHA1:   {"SHA-1", 20},
	dns.SHA256: {"SHA-256", 32},
	dns.GOST94: {"GOST R 34.11-94", 32},
	dns.SHA384: {"SHA-384", 48},
}

// digestProblem refuses a DS record of the reserved digest type 0, or
// whose digest is not as long as its type's: validating resolvers would
// find the child zone bogus.
func digestProblem(ds *dns.DS) string {
	if ds.DigestType == 0 {
		return "digest type 0 is reserved: use 2 (SHA-256), as anyctl dnssec ds prints"
	}
	d, ok := digestLengths[ds.DigestType]
	if n := len(ds.Digest) / 2; ok && n != d.n {
		return fmt.Sprintf("digest type %d (%s) has a digest of %d bytes (%d hex digits), not %d: validating resolvers would find the child zone bogus",
			ds.DigestType, d.name, d.n, 2*d.n, n)
	}
	return ""
}

// svcbProblem refuses SVCB parameters that make the record malformed, which
// clients ignore (RFC 9460 section 8): a mandatory key that is not given,
// or mandatory listing itself; and no-default-alpn without alpn, which
// leaves no protocol. hinted is set for a GslbRecord's parameters, whose
// address hints come from its answers.
func svcbProblem(params []dns.SVCBKeyValue, hinted bool) string {
	given := map[dns.SVCBKey]bool{}
	for _, p := range params {
		given[p.Key()] = true
	}
	for _, p := range params {
		m, ok := p.(*dns.SVCBMandatory)
		if !ok {
			continue
		}
		for _, k := range m.Code {
			switch {
			case k == dns.SVCB_MANDATORY:
				return fmt.Sprintf("mandatory lists %q, which it must not: clients ignore such a record (RFC 9460 section 8)", k.String())
			case hinted && (k == dns.SVCB_IPV4HINT || k == dns.SVCB_IPV6HINT):
				return fmt.Sprintf("mandatory lists %q, which comes from the chosen origins or PoPs, and is missing when they have no such address: leave it out", k.String())
			case !given[k]:
				return fmt.Sprintf("mandatory lists %q, which is not given: clients ignore such a record (RFC 9460 section 8)", k.String())
			}
		}
	}
	if given[dns.SVCB_NO_DEFAULT_ALPN] && !given[dns.SVCB_ALPN] {
		return "no-default-alpn without alpn leaves no protocol to use: list them in alpn (RFC 9460 section 7.1.1)"
	}
	return ""
}
