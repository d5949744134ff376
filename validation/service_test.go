package validation

import (
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestServiceRules(t *testing.T) {
	dns := func(edit func(s *v1.AnycastServiceSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			edit(f.dnsSvc.Spec)
			return []proto.Message{f.dnsSvc}
		}
	}
	check := func(edit func(h *v1.HealthCheck)) func(f *fixture) []proto.Message {
		return dns(func(s *v1.AnycastServiceSpec) { edit(s.HealthCheck) })
	}
	runApplyCases(t, []applyCase{
		{"spec missing", func(f *fixture) []proto.Message {
			f.dnsSvc.Spec = nil
			return []proto.Message{f.dnsSvc}
		}, `AnycastService "edge-dns": spec: required`},
		{"no prefixes", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes = nil }),
			`AnycastService "edge-dns": spec.prefixes: at least one prefix required`},
		{"invalid CIDR", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[1] = "2001:db8:53::/129" }),
			`AnycastService "edge-dns": spec.prefixes[1] "2001:db8:53::/129": invalid CIDR: want address/length such as "192.0.2.0/24"`},
		{"host bits set", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[0] = "192.0.2.1/24" }),
			`AnycastService "edge-dns": spec.prefixes[0] "192.0.2.1/24": host bits set; did you mean "192.0.2.0/24"?`},
		{"IPv4 default route", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[0] = "0.0.0.0/0" }),
			`AnycastService "edge-dns": spec.prefixes[0] "0.0.0.0/0": default route: never announced`},
		{"IPv6 default route", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[1] = "::/0" }),
			`AnycastService "edge-dns": spec.prefixes[1] "::/0": default route: never announced`},
		{"martian", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[0] = "169.254.0.0/24" }),
			`AnycastService "edge-dns": spec.prefixes[0] "169.254.0.0/24": martian address space: overlaps 169.254.0.0/16 (link-local)`},
		{"outside the allowed space", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[0] = "10.1.0.0/24" }),
			`AnycastService "edge-dns": spec.prefixes[0] "10.1.0.0/24": outside the allowed address space (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)`},
		{"covers the allowed space", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[1] = "2001:db8::/31" }), strings.Join([]string{
			`AnycastService "edge-dns": spec.prefixes[1] "2001:db8::/31": outside the allowed address space (2001:db8::/32)`,
			`AnycastService "edge-dns": spec.prefixes[1] "2001:db8::/31": overlaps AnycastService "edge-http"`,
		}, "\n")},
		{"IPv4 longer than /24", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[0] = "192.0.2.0/25" }),
			`AnycastService "edge-dns": spec.prefixes[0] "192.0.2.0/25": prefix too long: IPv4 longer than /24 is filtered by most networks; set spec.allowLongPrefixes to announce it`},
		{"IPv6 longer than /48", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[1] = "2001:db8:53::/64" }),
			`AnycastService "edge-dns": spec.prefixes[1] "2001:db8:53::/64": prefix too long: IPv6 longer than /48 is filtered by most networks; set spec.allowLongPrefixes to announce it`},
		{"long prefix allowed", dns(func(s *v1.AnycastServiceSpec) {
			s.Prefixes[0] = "192.0.2.53/32"
			s.AllowLongPrefixes = true
		}), ``},
		{"prefix repeated", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes = append(s.Prefixes, "192.0.2.0/24") }),
			`AnycastService "edge-dns": spec.prefixes[2] "192.0.2.0/24": duplicate of spec.prefixes[0]`},
		{"prefixes overlap within the service", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes = append(s.Prefixes, "2001:db8:52::/47") }),
			`AnycastService "edge-dns": spec.prefixes[2] "2001:db8:52::/47": overlaps spec.prefixes[1] "2001:db8:53::/48"`},
		{"prefix overlaps another service", dns(func(s *v1.AnycastServiceSpec) { s.Prefixes[0] = "203.0.113.0/24" }),
			`AnycastService "edge-dns": spec.prefixes[0] "203.0.113.0/24": overlaps AnycastService "edge-http"`},
		{"selector missing", dns(func(s *v1.AnycastServiceSpec) { s.Pops = nil }),
			`AnycastService "edge-dns": spec.pops: required: select PoPs with all, names or regions`},
		{"selector empty", dns(func(s *v1.AnycastServiceSpec) { s.Pops = &v1.PopSelector{} }),
			`AnycastService "edge-dns": spec.pops: selects nothing: set all, names or regions`},
		{"selector all with names", dns(func(s *v1.AnycastServiceSpec) { s.Pops.Names = []string{"tokyo"} }),
			`AnycastService "edge-dns": spec.pops.all "true": ambiguous beside names or regions: use one`},
		{"selector names unknown PoP", dns(func(s *v1.AnycastServiceSpec) {
			s.Pops = &v1.PopSelector{Names: []string{"tokyo", "paris", "london"}}
		}), `AnycastService "edge-dns": spec.pops.names[1] "paris": unknown Pop`},
		{"selector names a PoP twice", dns(func(s *v1.AnycastServiceSpec) {
			s.Pops = &v1.PopSelector{Names: []string{"tokyo", "london", "tokyo"}}
		}), `AnycastService "edge-dns": spec.pops.names[2] "tokyo": duplicate of spec.pops.names[0]`},
		{"selector region without PoPs", dns(func(s *v1.AnycastServiceSpec) {
			s.Pops = &v1.PopSelector{Regions: []string{"apac", "africa"}}
		}), `AnycastService "edge-dns": spec.pops.regions[1] "africa": no Pop in this region`},
		{"minimum above the PoPs selected", dns(func(s *v1.AnycastServiceSpec) { s.MinAnnouncingPops = 5 }),
			`AnycastService "edge-dns": spec.minAnnouncingPops "5": more than the 4 PoPs selected`},
		{"hold down negative", dns(func(s *v1.AnycastServiceSpec) { s.HoldDown = dur(-time.Second) }),
			`AnycastService "edge-dns": spec.holdDown "-1s": negative`},
		{"hold down max below hold down", dns(func(s *v1.AnycastServiceSpec) { s.HoldDownMax = dur(5 * time.Second) }),
			`AnycastService "edge-dns": spec.holdDownMax "5s": below spec.holdDown "10s"`},
		{"flap window negative", dns(func(s *v1.AnycastServiceSpec) { s.FlapWindow = dur(-time.Minute) }),
			`AnycastService "edge-dns": spec.flapWindow "-1m0s": negative`},
		{"controller loss behaviour unknown", dns(func(s *v1.AnycastServiceSpec) { s.OnControllerLoss = 7 }),
			`AnycastService "edge-dns": spec.onControllerLoss "7": unknown behaviour`},
		{"community malformed", dns(func(s *v1.AnycastServiceSpec) { s.Announce.Communities[1] = "64512:65536" }),
			`AnycastService "edge-dns": spec.announce.communities[1] "64512:65536": not ASN:VALUE with both parts in 0..65535`},
		{"community by name", dns(func(s *v1.AnycastServiceSpec) { s.Announce.Communities[1] = "NO_EXPORT" }),
			`AnycastService "edge-dns": spec.announce.communities[1] "NO_EXPORT": not ASN:VALUE with both parts in 0..65535`},
		{"large community malformed", dns(func(s *v1.AnycastServiceSpec) { s.Announce.LargeCommunities[0] = "4200000001:1" }),
			`AnycastService "edge-dns": spec.announce.largeCommunities[0] "4200000001:1": not GLOBAL:LOCAL1:LOCAL2 with each part in 0..4294967295`},
		{"prepend with just room for a drain", dns(func(s *v1.AnycastServiceSpec) { s.Announce.AsPathPrepend = 13 }), ``},
		{"prepend leaving no room for a drain", dns(func(s *v1.AnycastServiceSpec) { s.Announce.AsPathPrepend = 14 }),
			`AnycastService "edge-dns": spec.announce.asPathPrepend "14": at most 13, so that a drain's 3 extra prepends stay within 16`},
		{"health check missing", dns(func(s *v1.AnycastServiceSpec) { s.HealthCheck = nil }),
			`AnycastService "edge-dns": spec.healthCheck: required: a service is announced only while its check passes`},
		{"check protocol missing", check(func(h *v1.HealthCheck) { h.Protocol = v1.CheckProtocol_CHECK_PROTOCOL_UNSPECIFIED }),
			`AnycastService "edge-dns": spec.healthCheck.protocol: required: one of CHECK_PROTOCOL_HTTP, CHECK_PROTOCOL_HTTPS, CHECK_PROTOCOL_TCP, CHECK_PROTOCOL_DNS`},
		{"check target missing", check(func(h *v1.HealthCheck) { h.Target = "" }),
			`AnycastService "edge-dns": spec.healthCheck.target: required: host:port such as "192.0.2.10:443"`},
		{"check target without port", check(func(h *v1.HealthCheck) { h.Target = "2001:db8::53" }),
			`AnycastService "edge-dns": spec.healthCheck.target "2001:db8::53": not host:port such as "192.0.2.10:443" (an IPv6 host goes in brackets)`},
		{"check target port out of range", check(func(h *v1.HealthCheck) { h.Target = "[2001:db8::53]:65536" }),
			`AnycastService "edge-dns": spec.healthCheck.target "[2001:db8::53]:65536": port "65536" is not a number in 1..65535`},
		{"check target host malformed", check(func(h *v1.HealthCheck) { h.Target = "ns 1:53" }),
			`AnycastService "edge-dns": spec.healthCheck.target "ns 1:53": host "ns 1" is neither an IP address nor a domain name`},
		{"check path relative", func(f *fixture) []proto.Message {
			f.httpSvc.Spec.HealthCheck.Path = "ready"
			return []proto.Message{f.httpSvc}
		}, `AnycastService "edge-http": spec.healthCheck.path "ready": must start with "/"`},
		{"check expected status", func(f *fixture) []proto.Message {
			f.httpSvc.Spec.HealthCheck.ExpectedStatus = 600
			return []proto.Message{f.httpSvc}
		}, `AnycastService "edge-http": spec.healthCheck.expectedStatus "600": not an HTTP status: 100..599`},
		{"check interval under 100ms", check(func(h *v1.HealthCheck) {
			h.Interval = dur(50 * time.Millisecond)
			h.Timeout = dur(20 * time.Millisecond)
		}), `AnycastService "edge-dns": spec.healthCheck.interval "50ms": under 100ms`},
		{"check interval missing", check(func(h *v1.HealthCheck) { h.Interval = nil }),
			`AnycastService "edge-dns": spec.healthCheck.interval: required: at least 100ms`},
		{"check timeout not below interval", check(func(h *v1.HealthCheck) { h.Timeout = dur(time.Second) }),
			`AnycastService "edge-dns": spec.healthCheck.timeout "1s": timeout not below interval "1s"`},
		{"check timeout zero", check(func(h *v1.HealthCheck) { h.Timeout = dur(0) }),
			`AnycastService "edge-dns": spec.healthCheck.timeout "0s": must be above 0`},
		{"check rise and fall zero", check(func(h *v1.HealthCheck) { h.Rise, h.Fall = 0, 0 }), strings.Join([]string{
			`AnycastService "edge-dns": spec.healthCheck.fall "0": must be at least 1`,
			`AnycastService "edge-dns": spec.healthCheck.rise "0": must be at least 1`,
		}, "\n")},
		{"dns check without name", check(func(h *v1.HealthCheck) { h.DnsName = "" }),
			`AnycastService "edge-dns": spec.healthCheck.dnsName: required for a dns check`},
		{"dns check type unknown", check(func(h *v1.HealthCheck) { h.DnsType = "AAAAA" }),
			`AnycastService "edge-dns": spec.healthCheck.dnsType "AAAAA": unknown DNS type such as "A" or "SOA"`},
		{"dns check type lower case", check(func(h *v1.HealthCheck) { h.DnsType = "soa" }),
			`AnycastService "edge-dns": spec.healthCheck.dnsType "soa": unknown DNS type; did you mean "SOA"?`},
		{"check timeout missing", check(func(h *v1.HealthCheck) { h.Timeout = nil }),
			`AnycastService "edge-dns": spec.healthCheck.timeout: required: above 0 and below the interval`},
		{"check interval malformed", check(func(h *v1.HealthCheck) { h.Interval = &durationpb.Duration{Seconds: 1, Nanos: -1} }),
			`AnycastService "edge-dns": spec.healthCheck.interval "1s -1ns": not a valid duration: out of range, or seconds and nanos of different signs`},
		{"dns check name malformed", check(func(h *v1.HealthCheck) { h.DnsName = "health..example.com." }),
			`AnycastService "edge-dns": spec.healthCheck.dnsName "health..example.com.": empty label`},
		{"dns check rcode lower case", check(func(h *v1.HealthCheck) { h.DnsRcode = "nxdomain" }),
			`AnycastService "edge-dns": spec.healthCheck.dnsRcode "nxdomain": unknown DNS rcode; did you mean "NXDOMAIN"?`},
		{"hold down max negative", dns(func(s *v1.AnycastServiceSpec) { s.HoldDown, s.HoldDownMax = nil, dur(-time.Second) }),
			`AnycastService "edge-dns": spec.holdDownMax "-1s": negative`},
		{"selector names an empty PoP", dns(func(s *v1.AnycastServiceSpec) { s.Pops = &v1.PopSelector{Names: []string{"tokyo", ""}} }), strings.Join([]string{
			`AnycastService "edge-dns": spec.minAnnouncingPops "2": more than the 1 PoP selected`,
			`AnycastService "edge-dns": spec.pops.names[1]: empty`,
		}, "\n")},
		{"dns check rcode unknown", check(func(h *v1.HealthCheck) { h.DnsRcode = "OK" }),
			`AnycastService "edge-dns": spec.healthCheck.dnsRcode "OK": unknown DNS rcode such as "NOERROR"`},
	})
}
