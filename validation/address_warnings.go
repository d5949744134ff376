package validation

import (
	"fmt"
	"net/netip"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// addressWarnings warns of addresses DNS answers hand to clients that
// clients cannot use as meant. An origin's, a PoP's unicast or a name
// server's address that is loopback or link-local reaches only the
// client's own host or link: refusing it would break a local test setup
// that answers 127.0.0.x to itself, so it is a warning. Static A and
// AAAA data that is unspecified, multicast or the limited broadcast
// address is no host to connect to, but a zone may answer it on purpose
// (a sinkhole answering 0.0.0.0), so that is a warning too; loopback
// there is common and meant (localhost names, DNSBL answers in
// 127.0.0.0/8), and goes without one. The ipv4hint and ipv6hint
// addresses of static HTTPS and SVCB data are what clients connect to
// when they skip the A and AAAA lookup, and are warned of as the same
// address in static A and AAAA data is.
func addressWarnings(incoming []*v1.Object) []string {
	var out []string
	unreachable := func(ref resource.Ref, path, s string) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return // an error of CheckApply's
		}
		var where string
		switch {
		case a.IsLoopback():
			where = "a loopback address: DNS answers hand it to clients, which reach it only on their own host"
		case a.IsLinkLocalUnicast():
			where = "a link-local address: DNS answers hand it to clients, which reach it only on their own link"
		default:
			return
		}
		out = append(out, fmt.Sprintf("%s: %s %s: %s; use an address clients can reach", ref, path, resource.Quote(s), where))
	}
	for _, o := range incoming {
		ref := resource.RefOf(o)
		switch {
		case o.GetPop() != nil:
			for i, s := range o.GetPop().GetSpec().GetUnicastAddresses() {
				unreachable(ref, idx("spec.unicastAddresses", i), s)
			}
		case o.GetOrigin() != nil:
			for i, s := range o.GetOrigin().GetSpec().GetAddresses() {
				unreachable(ref, idx("spec.addresses", i), s)
			}
		case o.GetGslbZone() != nil:
			spec := o.GetGslbZone().GetSpec()
			for i, ns := range spec.GetNameServers() {
				for j, s := range ns.GetAddresses() {
					unreachable(ref, idx(idx("spec.nameServers", i)+".addresses", j), s)
				}
			}
			apex, apexOK := zoneApex(spec)
			for i, rec := range spec.GetRecords() {
				switch rec.GetType() {
				case v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA:
					for j, s := range rec.GetValues() {
						if w := noHost(s); w != "" {
							out = append(out, fmt.Sprintf("%s: %s %s: %s: no client can connect to it", ref, idx(idx("spec.records", i)+".values", j), resource.Quote(s), w))
						}
					}
				case v1.RecordType_RECORD_TYPE_HTTPS, v1.RecordType_RECORD_TYPE_SVCB:
					if !apexOK {
						continue // an error of CheckApply's
					}
					for j, s := range rec.GetValues() {
						for _, w := range hintNoHost(rec.GetType(), s, apex) {
							out = append(out, fmt.Sprintf("%s: %s %s: %s: no client can connect to it", ref, idx(idx("spec.records", i)+".values", j), resource.Quote(s), w))
						}
					}
				}
			}
		}
	}
	return out
}

// noHost says which address s is when it names no one host, "" when it
// does or is not an address.
func noHost(s string) string {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return ""
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsMulticast():
		return "a multicast address"
	case a == limitedBroadcast:
		return "the limited broadcast address"
	}
	return ""
}
