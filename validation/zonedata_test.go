package validation

import (
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// TestZoneDataRules covers the record types beyond addresses and text, and
// delegations.
func TestZoneDataRules(t *testing.T) {
	const (
		mx, srv, caa, ns = v1.RecordType_RECORD_TYPE_MX, v1.RecordType_RECORD_TYPE_SRV, v1.RecordType_RECORD_TYPE_CAA, v1.RecordType_RECORD_TYPE_NS
		svcb, https, a   = v1.RecordType_RECORD_TYPE_SVCB, v1.RecordType_RECORD_TYPE_HTTPS, v1.RecordType_RECORD_TYPE_A
		txt, ds          = v1.RecordType_RECORD_TYPE_TXT, v1.RecordType_RECORD_TYPE_DS
	)
	type rec = v1.StaticRecord
	add := func(recs ...*rec) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			f.zone.Spec.Records = append(f.zone.Spec.Records, recs...)
			return []proto.Message{f.zone}
		}
	}
	child := &rec{Name: "child", Type: ns, Values: []string{"ns1.child", "ns.example.net."}}
	glue := &rec{Name: "ns1.child", Type: a, Values: []string{"198.51.100.54"}}
	const digest = "3B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B2C3D4E5F6A7B8C9D0E1F2A3B"
	runApplyCases(t, []applyCase{
		{"every type", add(
			&rec{Name: "@", Type: mx, Values: []string{"10 mx1", "20 mx2.example.net."}},
			&rec{Name: "_sip._tcp", Type: srv, Values: []string{"10 5 5060 sip.example.net."}},
			&rec{Name: "@", Type: caa, Values: []string{`0 issue "ca.example.net; account=1"`, "0 iodef mailto:sec@example.com"}},
			&rec{Name: "svc", Type: svcb, Values: []string{"1 . alpn=h2 port=8443"}},
			&rec{Name: "@", Type: https, Values: []string{"1 . alpn=h2,h3 ipv4hint=198.51.100.80"}},
			child, glue,
		), ``},
		{"MX malformed", add(&rec{Name: "@", Type: mx, Values: []string{"mx1.example.net."}}),
			`GslbZone "gslb": spec.records[4].values[0] "mx1.example.net.": not MX data: write PREFERENCE EXCHANGE, such as "10 mx.example.com." (bad MX Pref: "mx1.example.net.")`},
		{"SRV missing a field", add(&rec{Name: "_sip._tcp", Type: srv, Values: []string{"10 5 sip.example.net."}}),
			`GslbZone "gslb": spec.records[4].values[0] "10 5 sip.example.net.": not SRV data: write PRIORITY WEIGHT PORT TARGET, such as "10 5 443 sip.example.com." (bad SRV Port: "sip.example.net.")`},
		{"HTTPS parameter unknown", add(&rec{Name: "@", Type: https, Values: []string{"1 . alpn=h2 colour=blue"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . alpn=h2 colour=blue": not HTTPS data: write PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3" (bad SVCB key: "colour=blue")`},
		{"two records in one value", add(&rec{Name: "@", Type: mx, Values: []string{"10 mx1.example.net.\nx 60 IN A 192.0.2.1"}}),
			`GslbZone "gslb": spec.records[4].values[0] "10 mx1.example.net.\nx 60 IN A 192.0.2.1": a line break in the value: one value is one record`},
		{"NS at the apex", add(&rec{Name: "@", Type: ns, Values: []string{"ns3.example.net."}}),
			`GslbZone "gslb": spec.records[4].type "RECORD_TYPE_NS": NS at the zone apex: list the zone's name servers in spec.nameServers`},
		{"delegation without glue", add(child),
			`GslbZone "gslb": spec.records[4].values[0] "ns1.child": glue required: "ns1.child.gslb.example.com." is inside the delegated zone; add its A or AAAA record`},
		{"data beside a cut", add(child, glue, &rec{Name: "child", Type: txt, Values: []string{"x"}}),
			`GslbZone "gslb": spec.records[6].name "child": beside the delegation at spec.records[4]: a zone cut holds only NS and DS records`},
		{"DS at a cut", add(child, glue, &rec{Name: "child", Type: ds, Values: []string{"12345 13 2 " + digest, "54321 15 2 " + digest}}), ``},
		{"DS without a delegation", add(&rec{Name: "other", Type: ds, Values: []string{"12345 13 2 " + digest}}),
			`GslbZone "gslb": spec.records[4].type "RECORD_TYPE_DS": DS only at a delegation: add the child zone's NS records at other`},
		{"DS malformed", add(child, glue, &rec{Name: "child", Type: ds, Values: []string{"12345 13 ABCD"}}),
			`GslbZone "gslb": spec.records[6].values[0] "12345 13 ABCD": not DS data: write KEYTAG ALGORITHM DIGESTTYPE DIGEST (the data anyctl dnssec ds prints), such as "12345 13 2 3B8B..." (bad DS DigestType: "ABCD")`},
		{"DS digest not hexadecimal", add(child, glue, &rec{Name: "child", Type: ds, Values: []string{"12345 13 2 XY" + digest[2:]}}),
			`GslbZone "gslb": spec.records[6].values[0] "12345 13 2 XY8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B2C3D4E5F6A7B8"… (75 bytes): not DS data: write KEYTAG ALGORITHM DIGESTTYPE DIGEST (the data anyctl dnssec ds prints), such as "12345 13 2 3B8B..." (the digest is not hexadecimal: invalid byte: U+0058 'X')`},
		{"DS digest of odd length", add(child, glue, &rec{Name: "child", Type: ds, Values: []string{"12345 13 2 " + digest[1:]}}),
			`GslbZone "gslb": spec.records[6].values[0] "12345 13 2 B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B2C3D4E5F6A7B8C"… (74 bytes): not DS data: write KEYTAG ALGORITHM DIGESTTYPE DIGEST (the data anyctl dnssec ds prints), such as "12345 13 2 3B8B..." (the digest is not hexadecimal: odd length hex string)`},
		{"SVCB key repeated", add(&rec{Name: "svc", Type: svcb, Values: []string{"1 . port=8443 alpn=h2 port=443"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . port=8443 alpn=h2 port=443": not SVCB data: write PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3" (key "port" given twice)`},
		{"HTTPS key repeated", add(&rec{Name: "@", Type: https, Values: []string{"1 . alpn=h2 alpn=h3"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . alpn=h2 alpn=h3": not HTTPS data: write PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3" (key "alpn" given twice)`},
		{"data below a cut", add(child, glue, &rec{Name: "www.child", Type: txt, Values: []string{"x"}}),
			`GslbZone "gslb": spec.records[6].name "www.child": below the delegation at spec.records[4]: the child zone answers for it`},
		{"address below a cut that is not glue", add(child, glue, &rec{Name: "www.child", Type: a, Values: []string{"198.51.100.9"}}),
			`GslbZone "gslb": spec.records[6].name "www.child": below the delegation at spec.records[4] and not one of its name servers: only their glue may be here`},
		{"GSLB record below a cut", func(f *fixture) []proto.Message {
			f.zone.Spec.Records = append(f.zone.Spec.Records, child, glue)
			f.nearest.Spec.Name = "origin.child"
			return []proto.Message{f.zone, f.nearest}
		}, `GslbRecord "origin": spec.name "origin.child": "origin.child.gslb.example.com." is delegated to a child zone at "child.gslb.example.com." in GslbZone "gslb": the child zone answers for it`},
	})
}

// TestHTTPSRecordRules covers GslbRecords of type HTTPS.
func TestHTTPSRecordRules(t *testing.T) {
	nearest := func(edit func(s *v1.GslbRecordSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			f.nearest.Spec.Type = v1.RecordType_RECORD_TYPE_HTTPS
			edit(f.nearest.Spec)
			return []proto.Message{f.nearest}
		}
	}
	runApplyCases(t, []applyCase{
		{"HTTPS", nearest(func(s *v1.GslbRecordSpec) { s.Https = &v1.ServiceBinding{Params: "alpn=h2,h3"} }), ``},
		{"HTTPS without parameters", nearest(func(s *v1.GslbRecordSpec) {}), ``},
		{"hints given", nearest(func(s *v1.GslbRecordSpec) { s.Https = &v1.ServiceBinding{Params: "alpn=h2 ipv4hint=192.0.2.1"} }),
			`GslbRecord "origin": spec.https.params "alpn=h2 ipv4hint=192.0.2.1": ipv4hint comes from the chosen origins or PoPs: leave it out`},
		{"parameters malformed", nearest(func(s *v1.GslbRecordSpec) { s.Https = &v1.ServiceBinding{Params: "port=https"} }),
			`GslbRecord "origin": spec.https.params "port=https": not HTTPS data: write PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3" (bad value "port=https")`},
		{"parameter repeated", nearest(func(s *v1.GslbRecordSpec) { s.Https = &v1.ServiceBinding{Params: "alpn=h2 port=8443 alpn=h3"} }),
			`GslbRecord "origin": spec.https.params "alpn=h2 port=8443 alpn=h3": not HTTPS data: write PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3" (key "alpn" given twice)`},
		{"parameters longer than a record holds", nearest(func(s *v1.GslbRecordSpec) {
			s.Https = &v1.ServiceBinding{Params: "alpn=" + strings.Repeat("h3-xyz,", 10000) + "h2"}
		}), `GslbRecord "origin": spec.https.params "alpn=h3-xyz,h3-xyz,h3-xyz,h3-xyz,h3-xyz,h3-xyz,h3-xyz,h3-xyz,h3-"… (70007 bytes): not HTTPS data: its data is 70010 bytes, more than the 65535 a DNS record holds`},
		{"https on an A record", func(f *fixture) []proto.Message {
			f.nearest.Spec.Https = &v1.ServiceBinding{Params: "alpn=h2"}
			return []proto.Message{f.nearest}
		}, `GslbRecord "origin": spec.https: only for a record of type RECORD_TYPE_HTTPS`},
	})
}

// TestNameOriginRules: a name origin is answered with a CNAME, which stands
// alone at its name.
func TestNameOriginRules(t *testing.T) {
	nameOrigin := func(f *fixture) {
		f.fra.Spec.Addresses = []string{"lb-1.elb.example.net."}
		f.fra.Spec.HealthCheck = nil
		// The record beside the one at "origin" answers the name
		// origin's CNAME too: leave it one origin.
		f.latency.Spec.Origins = []string{"iad"}
	}
	runApplyCases(t, []applyCase{
		{"name origin", func(f *fixture) []proto.Message {
			f.fra.Spec.Addresses = []string{"lb-1.elb.example.net."}
			f.fra.Spec.HealthCheck = nil
			return []proto.Message{f.fra}
		}, ``},
		{"name origin at a name with static records", func(f *fixture) []proto.Message {
			f.fra.Spec.Addresses = []string{"lb-1.elb.example.net."}
			f.fra.Spec.HealthCheck = nil
			f.nearest.Spec.Name = "static"
			f.nearest.Spec.Type = v1.RecordType_RECORD_TYPE_HTTPS
			return []proto.Message{f.fra, f.nearest}
		}, `GslbRecord "origin": spec.origins[0] "fra": a DNS name origin, answered with a CNAME, but "static.gslb.example.com." holds static RECORD_TYPE_A, RECORD_TYPE_AAAA records in GslbZone "gslb": a CNAME stands alone`},
		{"name origin at its own name", func(f *fixture) []proto.Message {
			nameOrigin(f)
			f.fra.Spec.Addresses = []string{"origin.gslb.example.com"}
			return []proto.Message{f.fra}
		}, `GslbRecord "origin": spec.origins[0] "fra": a DNS name origin, answered with a CNAME to "origin.gslb.example.com.", the record's own name, which resolvers follow in a loop
GslbRecord "origin-v6": spec.origins[0] "fra": a DNS name origin, answered with a CNAME to "origin.gslb.example.com.", the record's own name, which resolvers follow in a loop`},
		{"name origin at the zone apex", func(f *fixture) []proto.Message {
			nameOrigin(f)
			f.zone.Spec.Records = f.zone.Spec.Records[1:] // the apex TXT record
			f.nearest.Spec.Name = "@"
			f.nearest.Spec.Type = v1.RecordType_RECORD_TYPE_HTTPS
			return []proto.Message{f.zone, f.fra, f.nearest}
		}, `GslbRecord "origin": spec.origins[0] "fra": a DNS name origin, answered with a CNAME, but "gslb.example.com." is the apex of GslbZone "gslb", which holds its SOA and NS records: a CNAME stands alone, and cannot be at a zone apex`},
		{"name origin at a name server's name", func(f *fixture) []proto.Message {
			nameOrigin(f)
			f.nearest.Spec.Name = "ns1"
			f.nearest.Spec.Type = v1.RecordType_RECORD_TYPE_HTTPS
			return []proto.Message{f.fra, f.nearest}
		}, `GslbRecord "origin": spec.origins[0] "fra": a DNS name origin, answered with a CNAME, but "ns1.gslb.example.com." is a name server of GslbZone "gslb", answered with its addresses: a CNAME stands alone`},
		{"name origin at a static record of a zone above", func(f *fixture) []proto.Message {
			nameOrigin(f)
			outer := proto.Clone(f.zone).(*v1.GslbZone)
			outer.Metadata.Name = "outer"
			outer.Spec.Zone = "example.com."
			outer.Spec.NameServers = []*v1.NameServer{{Name: "ns2.example.net."}}
			outer.Spec.Records = []*v1.StaticRecord{{Name: "origin.gslb", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"x"}}}
			return []proto.Message{f.fra, f.latency, outer}
		}, `GslbRecord "origin": spec.origins[0] "fra": a DNS name origin, answered with a CNAME, but "origin.gslb.example.com." holds static RECORD_TYPE_TXT records in GslbZone "outer": a CNAME stands alone`},
	})
}

// TestStaticValuesServedAsMeant covers values that parse, but that DNS
// servers would serve with another meaning, or as records clients must
// ignore: empty data, a DS digest of the wrong length, SVCB parameters
// that contradict each other, an address where a name is wanted.
func TestStaticValuesServedAsMeant(t *testing.T) {
	const (
		mx, srv, ns, ds = v1.RecordType_RECORD_TYPE_MX, v1.RecordType_RECORD_TYPE_SRV, v1.RecordType_RECORD_TYPE_NS, v1.RecordType_RECORD_TYPE_DS
		svcb, https     = v1.RecordType_RECORD_TYPE_SVCB, v1.RecordType_RECORD_TYPE_HTTPS
		cname, caa      = v1.RecordType_RECORD_TYPE_CNAME, v1.RecordType_RECORD_TYPE_CAA
	)
	type rec = v1.StaticRecord
	add := func(recs ...*rec) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			f.zone.Spec.Records = append(f.zone.Spec.Records, recs...)
			return []proto.Message{f.zone}
		}
	}
	child := &rec{Name: "child", Type: ns, Values: []string{"ns.example.net."}}
	const sha256 = "3B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B2C3D4E5F6A7B8C9D0E1F2A3B"
	nearest := func(params string) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			f.nearest.Spec.Type = v1.RecordType_RECORD_TYPE_HTTPS
			f.nearest.Spec.Https = &v1.ServiceBinding{Params: params}
			return []proto.Message{f.nearest}
		}
	}
	runApplyCases(t, []applyCase{
		{"MX empty", add(&rec{Name: "@", Type: mx, Values: []string{""}}),
			`GslbZone "gslb": spec.records[4].values[0]: empty: write PREFERENCE EXCHANGE, such as "10 mx.example.com." ("0 ." is the null MX of RFC 7505)`},
		{"DS blank", add(child, &rec{Name: "child", Type: ds, Values: []string{"  "}}),
			`GslbZone "gslb": spec.records[5].values[0] "  ": empty: write KEYTAG ALGORITHM DIGESTTYPE DIGEST (the data anyctl dnssec ds prints), such as "12345 13 2 3B8B..."`},
		{"CAA in parentheses only", add(&rec{Name: "@", Type: caa, Values: []string{"( )"}}),
			`GslbZone "gslb": spec.records[4].values[0] "( )": empty: write FLAGS TAG VALUE, such as "0 issue ca.example.net"`},
		{"NS in the generic form, empty", add(&rec{Name: "child", Type: ns, Values: []string{`\# 0`}}),
			`GslbZone "gslb": spec.records[4].values[0] "\\# 0": empty: write a name server's name, such as "ns1.child.example.com."`},
		{"DS digest shorter than its type's", add(child, &rec{Name: "child", Type: ds, Values: []string{"12345 13 2 " + sha256[:40]}}),
			`GslbZone "gslb": spec.records[5].values[0] "12345 13 2 3B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B": digest type 2 (SHA-256) has a digest of 32 bytes (64 hex digits), not 20: validating resolvers would find the child zone bogus`},
		{"DS digest type 0", add(child, &rec{Name: "child", Type: ds, Values: []string{"12345 13 0 " + sha256}}),
			`GslbZone "gslb": spec.records[5].values[0] "12345 13 0 3B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B2C3D4E5F6A7B8"… (75 bytes): digest type 0 is reserved: use 2 (SHA-256), as anyctl dnssec ds prints`},
		{"SVCB mandatory key missing", add(&rec{Name: "svc", Type: svcb, Values: []string{"1 . mandatory=alpn port=8443"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . mandatory=alpn port=8443": mandatory lists "alpn", which is not given: clients ignore such a record (RFC 9460 section 8)`},
		{"SVCB mandatory lists itself", add(&rec{Name: "svc", Type: svcb, Values: []string{"1 . mandatory=mandatory,port port=8443"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . mandatory=mandatory,port port=8443": mandatory lists "mandatory", which it must not: clients ignore such a record (RFC 9460 section 8)`},
		{"HTTPS no-default-alpn without alpn", add(&rec{Name: "@", Type: https, Values: []string{"1 . no-default-alpn port=8443"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . no-default-alpn port=8443": no-default-alpn without alpn leaves no protocol to use: list them in alpn (RFC 9460 section 7.1.1)`},
		{"SVCB alias mode with parameters", add(&rec{Name: "svc", Type: svcb, Values: []string{"0 svc.example.net. alpn=h2"}}),
			`GslbZone "gslb": spec.records[4].values[0] "0 svc.example.net. alpn=h2": priority 0 is AliasMode, whose parameters clients ignore (RFC 9460 section 2.4.2): leave them out, or give a priority of 1 or more for a ServiceMode record that carries them`},
		{"HTTPS alias mode with parameters", add(&rec{Name: "@", Type: https, Values: []string{"0 www.example.net. port=8443 ipv4hint=198.51.100.80"}}),
			`GslbZone "gslb": spec.records[4].values[0] "0 www.example.net. port=8443 ipv4hint=198.51.100.80": priority 0 is AliasMode, whose parameters clients ignore (RFC 9460 section 2.4.2): leave them out, or give a priority of 1 or more for a ServiceMode record that carries them`},
		{"HTTPS alias mode", add(&rec{Name: "@", Type: https, Values: []string{"0 www.example.net."}}), ``},
		{"HTTPS ipv4hint an IPv6 address", add(&rec{Name: "@", Type: https, Values: []string{"1 . ipv4hint=2001:db8::1"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . ipv4hint=2001:db8::1": ipv4hint "2001:db8::1": not an IPv4 address`},
		{"SVCB ipv6hint IPv4-mapped", add(&rec{Name: "svc", Type: svcb, Values: []string{"1 . ipv6hint=::ffff:198.51.100.80"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . ipv6hint=::ffff:198.51.100.80": ipv6hint "::ffff:198.51.100.80": not an IPv6 address`},
		{"SVCB ipv6hint zoned", add(&rec{Name: "svc", Type: svcb, Values: []string{"1 . ipv6hint=fe80::1%eth0"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . ipv6hint=fe80::1%eth0": ipv6hint "fe80::1%eth0": not an IPv6 address`},
		{"HTTPS hints no client connects to, a warning", add(&rec{Name: "@", Type: https, Values: []string{"1 . ipv4hint=255.255.255.255 ipv6hint=::"}}), ``},
		{"MX exchange an address", add(&rec{Name: "@", Type: mx, Values: []string{"10 198.51.100.25"}}),
			`GslbZone "gslb": spec.records[4].values[0] "10 198.51.100.25": "198.51.100.25" is an address where a name is wanted, and would be served as the name "198.51.100.25.gslb.example.com.": name a host with that address`},
		{"SRV target an address", add(&rec{Name: "_sip._tcp", Type: srv, Values: []string{"10 5 5060 198.51.100.26."}}),
			`GslbZone "gslb": spec.records[4].values[0] "10 5 5060 198.51.100.26.": "198.51.100.26." is an address where a name is wanted, and would be served as the name "198.51.100.26.": name a host with that address`},
		{"NS an address", add(&rec{Name: "child", Type: ns, Values: []string{"2001:db8::53"}}),
			`GslbZone "gslb": spec.records[4].values[0] "2001:db8::53": "2001:db8::53" is an address where a name is wanted, and would be served as the name "2001:db8::53.gslb.example.com.": name a host with that address`},
		{"NS an IPv4 address", add(&rec{Name: "child", Type: ns, Values: []string{"198.51.100.53"}}),
			`GslbZone "gslb": spec.records[4].values[0] "198.51.100.53": "198.51.100.53" is an address where a name is wanted, and would be served as the name "198.51.100.53.gslb.example.com.": name a host with that address`},
		{"CNAME an address", add(&rec{Name: "alias", Type: cname, Values: []string{"198.51.100.27"}}),
			`GslbZone "gslb": spec.records[4].values[0] "198.51.100.27": an address where a name is wanted: a CNAME names another name; for an address, use an A or AAAA record`},
		{"MX exchange longer than a name, with the zone", add(&rec{Name: "@", Type: mx, Values: []string{"10 " + strings.Repeat("a.", 118) + "xyz"}}),
			`GslbZone "gslb": spec.records[4].values[0] "10 a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"… (242 bytes): "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."… (257 bytes) is longer than a domain name may be (255 bytes on the wire): shorten it (a name without a trailing dot is relative to the zone)`},
		{"NS target longer than a name, with the zone", add(&rec{Name: "child", Type: ns, Values: []string{strings.Repeat("a.", 120) + "xyz"}}),
			`GslbZone "gslb": spec.records[4].values[0] "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."… (243 bytes): "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."… (261 bytes) is longer than a domain name may be (255 bytes on the wire): shorten it (a name without a trailing dot is relative to the zone)`},
		{"HTTPS parameters after a comment", add(&rec{Name: "@", Type: https, Values: []string{"1 . alpn=h2 ; port=8443"}}),
			`GslbZone "gslb": spec.records[4].values[0] "1 . alpn=h2 ; port=8443": ';' starts a comment in zone-file data, and "; port=8443" would be dropped: leave it out, or quote the ';'`},
		{"CAA value with a quoted ';'", add(&rec{Name: "@", Type: caa, Values: []string{`0 issue "ca.example.net; account=1"`}}), ``},
		{"MX exchange with a '$'", add(&rec{Name: "@", Type: mx, Values: []string{"10 $ORIGIN"}}),
			`GslbZone "gslb": spec.records[4].values[0] "10 $ORIGIN": the name "$ORIGIN.gslb.example.com.": label "$ORIGIN" holds '$': use letters, digits, '-' and '_'`},
		{"SRV target with an escaped dot", add(&rec{Name: "_sip._tcp", Type: srv, Values: []string{`10 5 5060 sip\.a.example.net.`}}),
			`GslbZone "gslb": spec.records[4].values[0] "10 5 5060 sip\\.a.example.net.": the name "sip\\.a.example.net.": label "sip\\" holds '\\': use letters, digits, '-' and '_'`},
		{"HTTPS record: parameters after a comment", nearest("alpn=h2 ; port=8443"),
			`GslbRecord "origin": spec.https.params "alpn=h2 ; port=8443": ';' starts a comment in zone-file data, and "; port=8443" would be dropped: leave it out, or quote the ';'`},
		{"CNAME to itself", add(&rec{Name: "alias", Type: cname, Values: []string{"Alias.gslb.example.com."}}),
			`GslbZone "gslb": spec.records[4].values[0] "Alias.gslb.example.com.": a CNAME to its own name, which resolvers follow in a loop`},
		{"CNAME to a single label", add(&rec{Name: "alias", Type: cname, Values: []string{"www"}}),
			`GslbZone "gslb": spec.records[4].values[0] "www": a CNAME target is absolute, and "www" would be served as the top-level name "www.": write "www.gslb.example.com." for the name in this zone, or "www." if that is meant`},
		{"CNAME to a name without its trailing dot", add(&rec{Name: "alias", Type: cname, Values: []string{"www.example.net"}}), ``},
		{"HTTPS record: mandatory key missing", nearest("mandatory=alpn port=8443"),
			`GslbRecord "origin": spec.https.params "mandatory=alpn port=8443": mandatory lists "alpn", which is not given: clients ignore such a record (RFC 9460 section 8)`},
		{"HTTPS record: mandatory hint", nearest("alpn=h2 mandatory=ipv6hint"),
			`GslbRecord "origin": spec.https.params "alpn=h2 mandatory=ipv6hint": mandatory lists "ipv6hint", which comes from the chosen origins or PoPs, and is missing when they have no such address: leave it out`},
	})
}
