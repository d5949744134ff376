package validation

import (
	"fmt"
	"net/netip"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
)

// limitedBroadcast is 255.255.255.255, which reaches every host of the
// sender's own link and is never routed (RFC 919, RFC 1812 section 4.2.3.1).
var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// checkAddr checks a unicast IP address field and returns the address when
// it is usable: not unspecified, multicast or the limited broadcast
// address, which name no one host.
func checkAddr(r report, path, s string) (netip.Addr, bool) {
	if s == "" {
		r.add(path, "", "required")
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		r.add(path, s, "not an IP address")
	case a.Zone() != "":
		r.add(path, s, "zoned address: drop the %zone")
	case a.Is4In6():
		r.addf(path, s, "IPv4-mapped IPv6 address; write %q", a.Unmap().String())
	case a.IsUnspecified():
		r.add(path, s, "unspecified address")
	case a.IsMulticast():
		r.add(path, s, "multicast address")
	case a == limitedBroadcast:
		r.add(path, s, "limited broadcast address")
	default:
		return a, true
	}
	return netip.Addr{}, false
}

// checkNetwork checks a prefix field written in canonical form.
func checkNetwork(r report, path, s string) (netip.Prefix, bool) {
	p, err := ParsePrefix(s)
	if err != nil {
		r.addErr(path, s, err)
		return netip.Prefix{}, false
	}
	return p, true
}

// checkDuration returns a duration field's value; ok is false when it is
// unset or malformed (which is reported).
func checkDuration(r report, path string, d *durationpb.Duration) (time.Duration, bool) {
	if d == nil {
		return 0, false
	}
	if err := d.CheckValid(); err != nil {
		r.addErr(path, fmt.Sprintf("%ds %dns", d.GetSeconds(), d.GetNanos()),
			&ruleError{kind: err, msg: "not a valid duration: out of range, or seconds and nanos of different signs"})
		return 0, false
	}
	return d.AsDuration(), true
}
