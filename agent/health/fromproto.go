package health

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/types/known/durationpb"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

var protocols = map[v1.CheckProtocol]string{
	v1.CheckProtocol_CHECK_PROTOCOL_HTTP:  ProtocolHTTP,
	v1.CheckProtocol_CHECK_PROTOCOL_HTTPS: ProtocolHTTPS,
	v1.CheckProtocol_CHECK_PROTOCOL_TCP:   ProtocolTCP,
	v1.CheckProtocol_CHECK_PROTOCOL_DNS:   ProtocolDNS,
}

var defaultPorts = map[string]string{
	ProtocolHTTP:  "80",
	ProtocolHTTPS: "443",
	ProtocolDNS:   "53",
}

// FromProto converts a wire health check into a Spec with its defaults
// filled. defaultHost replaces an empty host in the target (for anycast
// services, the service's first prefix address); an absent port is the
// protocol's well-known one. Errors name the field and quote the value.
func FromProto(hc *v1.HealthCheck, defaultHost string) (Spec, error) {
	if hc == nil {
		return Spec{}, fmt.Errorf("health_check: missing")
	}
	proto, ok := protocols[hc.GetProtocol()]
	if !ok {
		return Spec{}, fmt.Errorf("health_check.protocol %q: want one of HTTP, HTTPS, TCP, DNS", hc.GetProtocol().String())
	}
	target, err := resolveTarget(hc.GetTarget(), proto, defaultHost)
	if err != nil {
		return Spec{}, err
	}
	s := Spec{
		Protocol:           proto,
		Target:             target,
		Path:               hc.GetPath(),
		Host:               hc.GetHost(),
		ExpectedStatus:     int(hc.GetExpectedStatus()),
		ExpectBody:         hc.GetExpectBody(),
		InsecureSkipVerify: hc.GetInsecureSkipVerify(),
		DNSName:            hc.GetDnsName(),
		Rise:               int(hc.GetRise()),
		Fall:               int(hc.GetFall()),
	}
	if s.Interval, err = duration("health_check.interval", hc.GetInterval()); err != nil {
		return Spec{}, err
	}
	if s.Timeout, err = duration("health_check.timeout", hc.GetTimeout()); err != nil {
		return Spec{}, err
	}
	if proto == ProtocolDNS {
		if s.DNSType, err = dnsType(hc.GetDnsType()); err != nil {
			return Spec{}, err
		}
		if s.DNSRcode, err = dnsRcode(hc.GetDnsRcode()); err != nil {
			return Spec{}, err
		}
	}
	s = s.withDefaults()
	if err := s.validate(); err != nil {
		return Spec{}, fmt.Errorf("health_check: %w", err)
	}
	return s, nil
}

// resolveTarget fills an empty host with defaultHost and an absent port with
// the protocol's default.
func resolveTarget(target, proto, defaultHost string) (string, error) {
	host, port := target, ""
	if h, p, err := net.SplitHostPort(target); err == nil {
		host, port = h, p
	} else if strings.Contains(target, ":") {
		if _, perr := netip.ParseAddr(target); perr != nil {
			return "", fmt.Errorf("health_check.target %q: want host:port, host or :port: %w", target, err)
		}
	}
	if host == "" {
		host = defaultHost
	}
	if host == "" {
		return "", fmt.Errorf("health_check.target %q: no host and no default host to use", target)
	}
	if port == "" {
		port = defaultPorts[proto]
	}
	if port == "" {
		return "", fmt.Errorf("health_check.target %q: a %s check needs a port", target, proto)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("health_check.target %q: port %q: want 1 to 65535", target, port)
	}
	return net.JoinHostPort(host, port), nil
}

func duration(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		v := fmt.Sprintf("%ds %dns", d.GetSeconds(), d.GetNanos())
		return 0, fmt.Errorf("%s %q: %w", field, v, err)
	}
	v := d.AsDuration()
	if v < 0 {
		return 0, fmt.Errorf("%s %q: cannot be negative", field, v.String())
	}
	return v, nil
}

func dnsType(s string) (uint16, error) {
	if s == "" {
		return dns.TypeA, nil
	}
	t, ok := dns.StringToType[strings.ToUpper(s)]
	if !ok {
		return 0, fmt.Errorf("health_check.dns_type %q: unknown record type, want e.g. A, AAAA, SOA", s)
	}
	return t, nil
}

func dnsRcode(s string) (int, error) {
	if s == "" {
		return dns.RcodeSuccess, nil
	}
	r, ok := dns.StringToRcode[strings.ToUpper(s)]
	if !ok {
		return 0, fmt.Errorf("health_check.dns_rcode %q: unknown rcode, want e.g. NOERROR, NXDOMAIN, SERVFAIL", s)
	}
	return r, nil
}

// DampFromProto reads the damping settings of a service assignment. Rise and
// Fall are left zero: NewChecker takes them from the health check.
func DampFromProto(a *v1.ServiceAssignment) (DampConfig, error) {
	var c DampConfig
	var err error
	if c.HoldDown, err = duration("hold_down", a.GetHoldDown()); err != nil {
		return DampConfig{}, err
	}
	if c.HoldDownMax, err = duration("hold_down_max", a.GetHoldDownMax()); err != nil {
		return DampConfig{}, err
	}
	if c.FlapWindow, err = duration("flap_window", a.GetFlapWindow()); err != nil {
		return DampConfig{}, err
	}
	if c.HoldDownMax != 0 && c.HoldDownMax < c.HoldDown {
		return DampConfig{}, fmt.Errorf("hold_down_max %q: shorter than hold_down %q", c.HoldDownMax.String(), c.HoldDown.String())
	}
	return c, nil
}
