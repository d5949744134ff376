package validation

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// hintProblem says why an ipv4hint or ipv6hint address of the static
// HTTPS or SVCB value v would be refused in a static A or AAAA record,
// naming the hint and the address; "" when none would be. A hint is an
// address clients connect to in place of the A or AAAA lookup, so it is
// held to the same rules.
func hintProblem(typ v1.RecordType, v string) string {
	if typ != v1.RecordType_RECORD_TYPE_HTTPS && typ != v1.RecordType_RECORD_TYPE_SVCB {
		return ""
	}
	for _, f := range strings.Fields(v) {
		key, list, ok := strings.Cut(f, "=")
		if !ok || (key != "ipv4hint" && key != "ipv6hint") {
			continue
		}
		for _, s := range strings.Split(strings.Trim(list, `"`), ",") {
			a, err := netip.ParseAddr(s)
			switch {
			case key == "ipv4hint" && (err != nil || !a.Is4()):
				return fmt.Sprintf("%s %q: not an IPv4 address", key, s)
			case key == "ipv6hint" && (err != nil || !a.Is6() || a.Is4In6() || a.Zone() != ""):
				return fmt.Sprintf("%s %q: not an IPv6 address", key, s)
			}
		}
	}
	return ""
}

// hintNoHost says, for each ipv4hint and ipv6hint address of the static
// HTTPS or SVCB value s that names no one host (noHost), which hint and
// address it is and what the address is; nothing when s does not parse.
func hintNoHost(typ v1.RecordType, s, apex string) []string {
	rr, err := RecordData(typ, apex, 0, s, apex)
	if err != nil {
		return nil // an error of CheckApply's
	}
	var out []string
	for _, p := range svcbParams(rr) {
		var hints []net.IP
		switch h := p.(type) {
		case *dns.SVCBIPv4Hint:
			hints = h.Hint
		case *dns.SVCBIPv6Hint:
			hints = h.Hint
		}
		for _, ip := range hints {
			a, ok := netip.AddrFromSlice(ip)
			if !ok {
				continue
			}
			if _, v4 := p.(*dns.SVCBIPv4Hint); v4 {
				a = a.Unmap()
			}
			if w := noHost(a.String()); w != "" {
				out = append(out, fmt.Sprintf("%s %q: %s", p.Key(), a.String(), w))
			}
		}
	}
	return out
}

// svcbParams is the SvcParams of an SVCB or HTTPS record, nil for any
// other.
func svcbParams(rr dns.RR) []dns.SVCBKeyValue {
	switch x := rr.(type) {
	case *dns.SVCB:
		return x.Value
	case *dns.HTTPS:
		return x.Value
	}
	return nil
}
