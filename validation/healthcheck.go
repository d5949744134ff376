package validation

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// minCheckInterval is the shortest probe interval; shorter ones load the
// target more than they speed up failover.
const minCheckInterval = 100 * time.Millisecond

// checkHealthCheck applies the HealthCheck rules at path. hostOptional is
// true for anycast services, whose check may leave the host out to mean the
// service's own address; an origin's check must name its host.
func checkHealthCheck(r report, path string, h *v1.HealthCheck, hostOptional bool) {
	proto := h.GetProtocol()
	switch proto {
	case v1.CheckProtocol_CHECK_PROTOCOL_UNSPECIFIED:
		r.add(path+".protocol", "", "required: one of CHECK_PROTOCOL_HTTP, CHECK_PROTOCOL_HTTPS, CHECK_PROTOCOL_TCP, CHECK_PROTOCOL_DNS")
	case v1.CheckProtocol_CHECK_PROTOCOL_HTTP, v1.CheckProtocol_CHECK_PROTOCOL_HTTPS,
		v1.CheckProtocol_CHECK_PROTOCOL_TCP, v1.CheckProtocol_CHECK_PROTOCOL_DNS:
	default:
		r.add(path+".protocol", proto.String(), "unknown protocol")
	}
	checkTarget(r, path+".target", h.GetTarget(), hostOptional)
	if p := h.GetPath(); p != "" && !strings.HasPrefix(p, "/") {
		r.add(path+".path", p, "must start with \"/\"")
	}
	if st := h.GetExpectedStatus(); st != 0 && (st < 100 || st > 599) {
		r.add(path+".expectedStatus", fmt.Sprint(st), "not an HTTP status: 100..599")
	}
	checkTiming(r, path, h)
	if proto == v1.CheckProtocol_CHECK_PROTOCOL_DNS {
		checkDNSProbe(r, path, h)
	}
}

// checkTarget requires host:port; the host is an IP address or a domain
// name, and may be empty only when hostOptional.
func checkTarget(r report, path, target string, hostOptional bool) {
	if target == "" {
		r.add(path, "", "required: host:port such as \"192.0.2.10:443\"")
		return
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		r.add(path, target, "not host:port such as \"192.0.2.10:443\" (an IPv6 host goes in brackets)")
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		r.addf(path, target, "port %q is not a number in 1..65535", port)
	}
	switch {
	case host == "" && hostOptional:
	case host == "":
		r.add(path, target, "empty host: name the host to probe")
	default:
		if _, err := netip.ParseAddr(host); err != nil && domainProblem(host) != "" {
			r.addf(path, target, "host %q is neither an IP address nor a domain name", host)
		}
	}
}

// checkTiming applies the interval, timeout, rise and fall rules.
func checkTiming(r report, path string, h *v1.HealthCheck) {
	interval, iok := checkDuration(r, path+".interval", h.GetInterval())
	switch {
	case h.GetInterval() == nil:
		r.add(path+".interval", "", "required: at least 100ms")
	case iok && interval < minCheckInterval:
		r.add(path+".interval", interval.String(), "under 100ms")
	}
	timeout, tok := checkDuration(r, path+".timeout", h.GetTimeout())
	switch {
	case h.GetTimeout() == nil:
		r.add(path+".timeout", "", "required: above 0 and below the interval")
	case tok && timeout <= 0:
		r.add(path+".timeout", timeout.String(), "must be above 0")
	case tok && iok && timeout >= interval:
		r.addf(path+".timeout", timeout.String(), "timeout not below interval %q", interval.String())
	}
	if h.GetRise() == 0 {
		r.add(path+".rise", "0", "must be at least 1")
	}
	if h.GetFall() == 0 {
		r.add(path+".fall", "0", "must be at least 1")
	}
}

// checkDNSProbe requires the question of a dns check. An empty type means
// A and an empty rcode means NOERROR.
func checkDNSProbe(r report, path string, h *v1.HealthCheck) {
	if n := h.GetDnsName(); n == "" {
		r.add(path+".dnsName", "", "required for a dns check")
	} else if p := domainProblem(n); p != "" {
		r.add(path+".dnsName", n, p)
	}
	if t := h.GetDnsType(); t != "" {
		if _, ok := dns.StringToType[t]; !ok {
			r.add(path+".dnsType", t, unknownMsg("DNS type", t, ` such as "A" or "SOA"`, func(s string) bool {
				_, ok := dns.StringToType[s]
				return ok
			}))
		}
	}
	if c := h.GetDnsRcode(); c != "" {
		if _, ok := dns.StringToRcode[c]; !ok {
			r.add(path+".dnsRcode", c, unknownMsg("DNS rcode", c, ` such as "NOERROR"`, func(s string) bool {
				_, ok := dns.StringToRcode[s]
				return ok
			}))
		}
	}
}
