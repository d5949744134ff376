package validation

import (
	"fmt"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// numbered returns n values made by format from 0 to n-1.
func numbered(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

// TestAnswerSizeRules: an RRset a DNS server answers with must fit in one
// DNS message, with room for its OPT record and signatures; a larger one
// is answered with TC, even over TCP, so that no client ever gets it.
func TestAnswerSizeRules(t *testing.T) {
	add := func(recs ...*v1.StaticRecord) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			f.zone.Spec.Records = append(f.zone.Spec.Records, recs...)
			return []proto.Message{f.zone}
		}
	}
	big := strings.Repeat("x", 4000)
	var addrs []string
	for i := range 20 {
		addrs = append(addrs, numbered(fmt.Sprintf("10.%d.%%d.1", i), 250)...)
	}
	https := func(f *fixture) {
		f.nearest.Spec.Type = v1.RecordType_RECORD_TYPE_HTTPS
		f.nearest.Spec.Https = &v1.ServiceBinding{Params: "alpn=h2,h3"}
	}
	runApplyCases(t, []applyCase{
		{"TXT values that fit", add(&v1.StaticRecord{Name: "big", Type: v1.RecordType_RECORD_TYPE_TXT, Values: numbered(big+"%d", 15)}), ``},
		{"TXT values too large for a message", add(&v1.StaticRecord{Name: "big", Type: v1.RecordType_RECORD_TYPE_TXT, Values: numbered(big+"%d", 20)}),
			`GslbZone "gslb": spec.records[4].values: 20 values take 80628 bytes in the answer for "big.gslb.example.com.": more than 64000, the most left in a DNS message for them beside the OPT record and signatures; spread them over more names, or shorten them`},
		{"TXT values too many", add(&v1.StaticRecord{Name: "big", Type: v1.RecordType_RECORD_TYPE_TXT, Values: numbered("v%d", 10000)}),
			`GslbZone "gslb": spec.records[4].values: 10000 values take 178928 bytes in the answer for "big.gslb.example.com.": more than 64000, the most left in a DNS message for them beside the OPT record and signatures; spread them over more names, or shorten them`},
		{"A values too many", add(&v1.StaticRecord{Name: "many", Type: v1.RecordType_RECORD_TYPE_A, Values: addrs}),
			`GslbZone "gslb": spec.records[4].values: 5000 values take 80039 bytes in the answer for "many.gslb.example.com.": more than 64000, the most left in a DNS message for them beside the OPT record and signatures; spread them over more names, or shorten them`},
		{"MX values too many", add(&v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_MX, Values: numbered("10 mx%d.example.net.", 5000)}),
			`GslbZone "gslb": spec.records[4].values: 5000 values take 113935 bytes in the answer for "gslb.example.com.": more than 64000, the most left in a DNS message for them beside the OPT record and signatures; spread them over more names, or shorten them`},
		{"name servers too many", func(f *fixture) []proto.Message {
			for _, n := range numbered("ns%d.provider-%[1]d.example.net.", 4000) {
				f.zone.Spec.NameServers = append(f.zone.Spec.NameServers, &v1.NameServer{Name: n})
			}
			return []proto.Message{f.zone}
		}, `GslbZone "gslb": spec.nameServers: 4002 name servers take 137861 bytes in the NS answer for "gslb.example.com.": more than 64000, the most left in a DNS message for them beside the OPT record and signatures; list fewer`},
		{"name server addresses too many", func(f *fixture) []proto.Message {
			f.zone.Spec.NameServers[0].Addresses = append(f.zone.Spec.NameServers[0].Addresses, numbered("2001:db8:53::%x", 5000)...)
			return []proto.Message{f.zone}
		}, `GslbZone "gslb": spec.nameServers[0].addresses: 5000 IPv6 addresses take 140038 bytes in the answer for "ns1.gslb.example.com.": more than 64000, the most left in a DNS message for them beside the OPT record and signatures; list fewer`},
		{"HTTPS hints too large for a message", func(f *fixture) []proto.Message {
			https(f)
			f.fra.Spec.Addresses = numbered("2001:db8:100::%x", 5000)
			f.fra.Spec.HealthCheck = nil
			return []proto.Message{f.fra, f.nearest}
		}, `GslbRecord "origin": spec.origins: with the addresses of the candidate with the most as its hints (0 IPv4, 5000 IPv6), the HTTPS answer does not fit in one record: its data is 80017 bytes, more than the 65535 a DNS record holds; give the candidates fewer addresses, lower spec.answers, or shorten spec.https.params`},
		{"HTTPS hints of several candidates too large for a message", func(f *fixture) []proto.Message {
			https(f)
			f.nearest.Spec.Answers = 3
			f.fra.Spec.Addresses = append(f.fra.Spec.Addresses[:1], numbered("2001:db8:100::%x", 1400)...)
			f.iad.Spec.Addresses = append(f.iad.Spec.Addresses[:1], numbered("2001:db8:101::%x", 1400)...)
			f.sin.Spec.Addresses = append(f.sin.Spec.Addresses[:1], numbered("2001:db8:102::%x", 1400)...)
			f.fra.Spec.HealthCheck, f.iad.Spec.HealthCheck, f.sin.Spec.HealthCheck = nil, nil, nil
			return []proto.Message{f.fra, f.iad, f.sin, f.nearest}
		}, `GslbRecord "origin": spec.origins: with the addresses of the 3 candidates with the most as its hints (3 IPv4, 4200 IPv6), the HTTPS answer does not fit in one record: its data is 67233 bytes, more than the 65535 a DNS record holds; give the candidates fewer addresses, lower spec.answers, or shorten spec.https.params`},
		{"HTTPS hints and parameters too large for a message", func(f *fixture) []proto.Message {
			https(f)
			f.nearest.Spec.Https.Params = "alpn=" + strings.Repeat("h3-xyz,", 9000) + "h2"
			f.fra.Spec.Addresses = numbered("2001:db8:100::%x", 100)
			f.fra.Spec.HealthCheck = nil
			return []proto.Message{f.fra, f.nearest}
		}, `GslbRecord "origin": spec.origins: with the addresses of the candidate with the most as its hints (0 IPv4, 100 IPv6), the HTTPS answer takes 64667 bytes: more than 64000, the most left in a DNS message for them beside the OPT record and signatures; give the candidates fewer addresses, lower spec.answers, or shorten spec.https.params`},
		{"HTTPS hints that fit", func(f *fixture) []proto.Message {
			https(f)
			f.fra.Spec.Addresses = numbered("2001:db8:100::%x", 3000)
			f.fra.Spec.HealthCheck = nil
			return []proto.Message{f.fra, f.nearest}
		}, ``},
	})
}
