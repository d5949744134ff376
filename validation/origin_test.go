package validation

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

func TestOriginRules(t *testing.T) {
	fra := func(edit func(s *v1.OriginSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			edit(f.fra.Spec)
			return []proto.Message{f.fra}
		}
	}
	runApplyCases(t, []applyCase{
		{"spec missing", func(f *fixture) []proto.Message {
			f.fra.Spec = nil
			return []proto.Message{f.fra}
		}, `Origin "fra": spec: required`},
		{"location missing", fra(func(s *v1.OriginSpec) { s.Location = nil }),
			`Origin "fra": spec.location: required`},
		{"no addresses", fra(func(s *v1.OriginSpec) { s.Addresses = nil; s.HealthCheck = nil }),
			`Origin "fra": spec.addresses: at least one address required`},
		{"address invalid", fra(func(s *v1.OriginSpec) { s.Addresses[1] = "192.0.2.300" }),
			`Origin "fra": spec.addresses[1] "192.0.2.300": not an IP address`},
		{"name beside addresses", fra(func(s *v1.OriginSpec) { s.Addresses[1] = "fra.example.com" }),
			`Origin "fra": spec.addresses[1] "fra.example.com": a DNS name must be the origin's only address: it is answered with a CNAME, and a CNAME stands alone`},
		{"name origin", fra(func(s *v1.OriginSpec) { s.Addresses = []string{"lb-1.elb.example.net."} }), ``},
		{"name origin malformed", fra(func(s *v1.OriginSpec) { s.Addresses = []string{"lb_1..example.net"} }),
			`Origin "fra": spec.addresses[0] "lb_1..example.net": neither an IP address nor a DNS name: empty label`},
		{"address unspecified", fra(func(s *v1.OriginSpec) { s.Addresses[1] = "::" }),
			`Origin "fra": spec.addresses[1] "::": unspecified address`},
		{"address limited broadcast", fra(func(s *v1.OriginSpec) { s.Addresses[0] = "255.255.255.255" }),
			`Origin "fra": spec.addresses[0] "255.255.255.255": limited broadcast address`},
		{"address multicast", fra(func(s *v1.OriginSpec) { s.Addresses[1] = "ff0e::1" }),
			`Origin "fra": spec.addresses[1] "ff0e::1": multicast address`},
		{"address loopback, a warning", fra(func(s *v1.OriginSpec) { s.Addresses[0] = "127.0.0.1" }), ``},
		{"address repeated", fra(func(s *v1.OriginSpec) { s.Addresses[1] = s.Addresses[0] }),
			`Origin "fra": spec.addresses[1] "198.51.100.100": duplicate of spec.addresses[0]`},
		{"weight negative", fra(func(s *v1.OriginSpec) { s.Weight = -5 }),
			`Origin "fra": spec.weight "-5": weight negative: use 0 to take no weighted traffic`},
		{"traffic dial above 100", fra(func(s *v1.OriginSpec) { s.TrafficDial = proto.Int32(101) }),
			`Origin "fra": spec.trafficDial "101": outside 0..100 (percent of its traffic the origin keeps)`},
		{"traffic dial negative", fra(func(s *v1.OriginSpec) { s.TrafficDial = proto.Int32(-1) }),
			`Origin "fra": spec.trafficDial "-1": outside 0..100 (percent of its traffic the origin keeps)`},
		{"traffic dial zero drains", fra(func(s *v1.OriginSpec) { s.TrafficDial = proto.Int32(0) }), ``},
		{"health check optional", fra(func(s *v1.OriginSpec) { s.HealthCheck = nil }), ``},
		{"health check by host name", fra(func(s *v1.OriginSpec) { s.HealthCheck.Target = "fra.origin.example.com:443" }), ``},
		{"health check without host", fra(func(s *v1.OriginSpec) { s.HealthCheck.Target = ":443" }),
			`Origin "fra": spec.healthCheck.target ":443": empty host: name the host to probe`},
		{"health check protocol unknown", fra(func(s *v1.OriginSpec) { s.HealthCheck.Protocol = 9 }),
			`Origin "fra": spec.healthCheck.protocol "9": unknown protocol`},
	})
}
