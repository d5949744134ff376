package validation

import (
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

func TestZoneRules(t *testing.T) {
	zone := func(edit func(s *v1.GslbZoneSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			edit(f.zone.Spec)
			return []proto.Message{f.zone}
		}
	}
	static := func(name string, typ v1.RecordType, values ...string) func(f *fixture) []proto.Message {
		return zone(func(s *v1.GslbZoneSpec) {
			s.Records = append(s.Records, &v1.StaticRecord{Name: name, Type: typ, Values: values})
		})
	}
	runApplyCases(t, []applyCase{
		{"spec missing", func(f *fixture) []proto.Message {
			f.zone.Spec = nil
			return []proto.Message{f.zone}
		}, `GslbZone "gslb": spec: required`},
		{"zone without trailing dot is absolute", zone(func(s *v1.GslbZoneSpec) { s.Zone = "GSLB.example.com" }), ``},
		{"zone missing", zone(func(s *v1.GslbZoneSpec) { s.Zone = "" }),
			`GslbZone "gslb": spec.zone: required: the zone apex, such as "gslb.example.com."`},
		{"zone malformed", zone(func(s *v1.GslbZoneSpec) { s.Zone = "gslb..example.com." }),
			`GslbZone "gslb": spec.zone "gslb..example.com.": empty label`},
		{"root zone", zone(func(s *v1.GslbZoneSpec) { s.Zone = "." }),
			`GslbZone "gslb": spec.zone ".": the root zone cannot be served`},
		{"same apex as another zone", func(f *fixture) []proto.Message {
			f.zone.Metadata.Name = "gslb-copy"
			f.zone.Spec.Zone = "gslb.example.com"
			return []proto.Message{f.zone}
		}, `GslbZone "gslb-copy": spec.zone "gslb.example.com": same apex as GslbZone "gslb"`},
		{"SOA missing", zone(func(s *v1.GslbZoneSpec) { s.Soa = nil }),
			`GslbZone "gslb": spec.soa: required: mname and rname`},
		{"SOA mname missing", zone(func(s *v1.GslbZoneSpec) { s.Soa.Mname = "" }),
			`GslbZone "gslb": spec.soa.mname: required`},
		{"SOA rname as an address", zone(func(s *v1.GslbZoneSpec) { s.Soa.Rname = "hostmaster@example.com" }),
			`GslbZone "gslb": spec.soa.rname "hostmaster@example.com": a mailbox is written as a name; did you mean "hostmaster.example.com."?`},
		{"SOA rname malformed", zone(func(s *v1.GslbZoneSpec) { s.Soa.Rname = "host master.example.com." }),
			`GslbZone "gslb": spec.soa.rname "host master.example.com.": label "host master" holds ' ': use letters, digits, '-' and '_'`},
		{"no name servers", zone(func(s *v1.GslbZoneSpec) { s.NameServers = nil }),
			`GslbZone "gslb": spec.nameServers: at least one name server required`},
		{"name server inside the zone without glue", zone(func(s *v1.GslbZoneSpec) { s.NameServers[0].Addresses = nil }),
			`GslbZone "gslb": spec.nameServers[0].addresses: glue required: "ns1.gslb.example.com." is inside the zone`},
		{"glue malformed", zone(func(s *v1.GslbZoneSpec) { s.NameServers[0].Addresses[1] = "2001:db8:53::53::1" }),
			`GslbZone "gslb": spec.nameServers[0].addresses[1] "2001:db8:53::53::1": not an IP address`},
		{"name server repeated", zone(func(s *v1.GslbZoneSpec) {
			s.NameServers = append(s.NameServers, &v1.NameServer{Name: "NS2.example.net."})
		}), `GslbZone "gslb": spec.nameServers[2].name "NS2.example.net.": duplicate of spec.nameServers[1]`},
		{"name server repeated, once relative", zone(func(s *v1.GslbZoneSpec) {
			s.NameServers = append(s.NameServers, &v1.NameServer{Name: "NS1", Addresses: []string{"198.51.100.53"}})
		}), `GslbZone "gslb": spec.nameServers[2].name "NS1": duplicate of spec.nameServers[0]`},
		{"relative name server inside the zone", zone(func(s *v1.GslbZoneSpec) {
			s.NameServers[0] = &v1.NameServer{Name: "ns1", Addresses: []string{"198.51.100.53"}}
		}), ``},
		{"relative name server without glue", zone(func(s *v1.GslbZoneSpec) {
			s.NameServers = append(s.NameServers, &v1.NameServer{Name: "ns3.example.net"})
		}), `GslbZone "gslb": spec.nameServers[2].addresses: glue required: "ns3.example.net.gslb.example.com." is inside the zone (a name without a trailing dot is relative to the zone; write "ns3.example.net." for a name outside it)`},
		{"relative name server repeating the zone", zone(func(s *v1.GslbZoneSpec) { s.NameServers[0].Name = "ns1.gslb.example.com" }),
			`GslbZone "gslb": spec.nameServers[0].name "ns1.gslb.example.com": relative name repeats the zone (it would mean "ns1.gslb.example.com.gslb.example.com."); write "ns1.gslb.example.com." with the trailing dot, or the name relative to the zone`},
		{"SOA mname repeating the zone", zone(func(s *v1.GslbZoneSpec) { s.Soa.Mname = "ns1.gslb.example.com" }),
			`GslbZone "gslb": spec.soa.mname "ns1.gslb.example.com": relative name repeats the zone (it would mean "ns1.gslb.example.com.gslb.example.com."); write "ns1.gslb.example.com." with the trailing dot, or the name relative to the zone`},
		{"SOA relative names", zone(func(s *v1.GslbZoneSpec) { s.Soa.Mname, s.Soa.Rname = "ns1", "hostmaster" }), ``},
		{"name server name missing", zone(func(s *v1.GslbZoneSpec) { s.NameServers[1].Name = "" }),
			`GslbZone "gslb": spec.nameServers[1].name: required`},
		{"static type unknown", static("www", 99, "x"),
			`GslbZone "gslb": spec.records[4].type "99": unknown record type`},
		{"static name label too long", static(strings.Repeat("a", 64), v1.RecordType_RECORD_TYPE_TXT, "x"),
			`GslbZone "gslb": spec.records[4].name "` + strings.Repeat("a", 64) + `": label "` + strings.Repeat("a", 64) + `" longer than 63 characters`},
		{"default TTL zero", zone(func(s *v1.GslbZoneSpec) { s.DefaultTtl = 0 }),
			`GslbZone "gslb": spec.defaultTtl "0": outside 1..604800`},
		{"default TTL above a week", zone(func(s *v1.GslbZoneSpec) { s.DefaultTtl = 604801 }),
			`GslbZone "gslb": spec.defaultTtl "604801": outside 1..604800`},
		{"static TTL above a week", zone(func(s *v1.GslbZoneSpec) { s.Records[1].Ttl = 604801 }),
			`GslbZone "gslb": spec.records[1].ttl "604801": outside 1..604800 (0 means spec.defaultTtl)`},
		{"static wildcard name", static("*.www", v1.RecordType_RECORD_TYPE_TXT, "x"),
			`GslbZone "gslb": spec.records[4].name "*.www": label "*" holds '*': wildcard names are not served; name each host`},
		{"static internationalised name", static("bücher", v1.RecordType_RECORD_TYPE_TXT, "x"),
			`GslbZone "gslb": spec.records[4].name "bücher": label "bücher" holds 'ü': write an internationalised name in its ASCII form (IDNA, such as "xn--bcher-kva" for "bücher")`},
		{"internationalised zone", zone(func(s *v1.GslbZoneSpec) { s.Zone = "bücher.example." }),
			`GslbZone "gslb": spec.zone "bücher.example.": label "bücher" holds 'ü': write an internationalised name in its ASCII form (IDNA, such as "xn--bcher-kva" for "bücher")`},
		{"static name outside the zone", static("www.example.com.", v1.RecordType_RECORD_TYPE_A, "198.51.100.1"),
			`GslbZone "gslb": spec.records[4].name "www.example.com.": outside zone "gslb.example.com."`},
		{"static relative name repeating the zone", static("www.gslb.example.com", v1.RecordType_RECORD_TYPE_A, "198.51.100.1"),
			`GslbZone "gslb": spec.records[4].name "www.gslb.example.com": relative name repeats the zone (it would mean "www.gslb.example.com.gslb.example.com."); write "www.gslb.example.com." with the trailing dot, or the name relative to the zone`},
		{"static name missing", static("", v1.RecordType_RECORD_TYPE_A, "198.51.100.1"),
			`GslbZone "gslb": spec.records[4].name: required: use "@" for the zone apex`},
		{"static type missing", static("www", v1.RecordType_RECORD_TYPE_UNSPECIFIED, "198.51.100.1"),
			`GslbZone "gslb": spec.records[4].type: required: one of RECORD_TYPE_A, RECORD_TYPE_AAAA, RECORD_TYPE_CNAME, RECORD_TYPE_TXT, RECORD_TYPE_MX, RECORD_TYPE_SRV, RECORD_TYPE_CAA, RECORD_TYPE_NS, RECORD_TYPE_SVCB, RECORD_TYPE_HTTPS, RECORD_TYPE_DS`},
		{"static without values", static("www", v1.RecordType_RECORD_TYPE_A),
			`GslbZone "gslb": spec.records[4].values: at least one value required`},
		{"static A with IPv6", static("www", v1.RecordType_RECORD_TYPE_A, "2001:db8::1"),
			`GslbZone "gslb": spec.records[4].values[0] "2001:db8::1": not an IPv4 address`},
		{"static AAAA with IPv4", static("www", v1.RecordType_RECORD_TYPE_AAAA, "2001:db8::1", "198.51.100.1"),
			`GslbZone "gslb": spec.records[4].values[1] "198.51.100.1": not an IPv6 address`},
		{"static CNAME target malformed", static("www", v1.RecordType_RECORD_TYPE_CNAME, "www..example.net."),
			`GslbZone "gslb": spec.records[4].values[0] "www..example.net.": empty label`},
		{"static CNAME with two values", static("www", v1.RecordType_RECORD_TYPE_CNAME, "a.example.net.", "b.example.net."),
			`GslbZone "gslb": spec.records[4].values: a CNAME has exactly one value`},
		{"static CNAME at the apex", static("@", v1.RecordType_RECORD_TYPE_CNAME, "www.example.net."),
			`GslbZone "gslb": spec.records[4].type "RECORD_TYPE_CNAME": a CNAME cannot be at the zone apex`},
		{"static CNAME beside other data", static("static", v1.RecordType_RECORD_TYPE_CNAME, "www.example.net."),
			`GslbZone "gslb": spec.records[4].name "static": CNAME beside spec.records[3]: a CNAME must stand alone`},
		{"static data beside a CNAME", static("docs.gslb.example.com.", v1.RecordType_RECORD_TYPE_TXT, "hello"),
			`GslbZone "gslb": spec.records[4].name "docs.gslb.example.com.": beside the CNAME at spec.records[1]: a CNAME must stand alone`},
		{"static RRset split", static("static", v1.RecordType_RECORD_TYPE_A, "198.51.100.81"),
			`GslbZone "gslb": spec.records[4].name "static": same name and type as spec.records[2]: list every value in one record`},
		{"static TXT longer than one character-string", static("long", v1.RecordType_RECORD_TYPE_TXT, strings.Repeat("x", 600)), ``},
		{"static TXT too long", static("long", v1.RecordType_RECORD_TYPE_TXT, strings.Repeat("x", 4097)),
			// The value is quoted up to resource.MaxQuoted bytes.
			`GslbZone "gslb": spec.records[4].values[0] "` + strings.Repeat("x", 64) + `"… (4097 bytes): longer than 4096 bytes`},
		{"static record takes a GSLB name", static("api", v1.RecordType_RECORD_TYPE_CNAME, "api.example.net."),
			`GslbRecord "api": spec.name "api.gslb.example.com.": "api.gslb.example.com." is a static CNAME in GslbZone "gslb"`},
	})
}

// TestZoneRecordsAtTheApexOfAZoneServedHere: a zone's NS records at the apex of
// another GslbZone are refused, whichever of the two is applied: the DNS
// server merged them into the served zone's own NS records, or turned
// that whole zone into a referral and refused every snapshot with a
// GslbRecord in it, depending on how the zones' object names sorted. So
// are static records of other types at that apex, which made the zone
// below a referral the same way; those reaching below its apex stay
// allowed.
func TestZoneRecordsAtTheApexOfAZoneServedHere(t *testing.T) {
	eu := func() *v1.GslbZone {
		z := proto.Clone(newFixture().zone).(*v1.GslbZone)
		z.Metadata.Name = "eu"
		z.Spec.Zone = "eu.gslb.example.com."
		z.Spec.Records = nil
		return z
	}
	static := func(f *fixture, name string, typ v1.RecordType, values ...string) *v1.GslbZone {
		f.zone.Spec.Records = append(f.zone.Spec.Records, &v1.StaticRecord{Name: name, Type: typ, Values: values})
		return f.zone
	}
	runApplyCases(t, []applyCase{
		{"zone below", func(f *fixture) []proto.Message { return []proto.Message{eu()} }, ``},
		{"static record inside a zone below", func(f *fixture) []proto.Message {
			return []proto.Message{eu(), static(f, "www.eu", v1.RecordType_RECORD_TYPE_A, "198.51.100.81")}
		}, ``},
		{"static record at the apex of a zone below", func(f *fixture) []proto.Message {
			return []proto.Message{eu(), static(f, "eu", v1.RecordType_RECORD_TYPE_TXT, "v=spf1 -all")}
		}, `GslbZone "gslb": spec.records[4].name "eu": "eu.gslb.example.com." is the apex of GslbZone "eu", served here, which answers for it: put the record in that zone`},
		{"delegation to a zone served here", func(f *fixture) []proto.Message {
			return []proto.Message{eu(), static(f, "eu", v1.RecordType_RECORD_TYPE_NS, "ns1.example.net.")}
		}, `GslbZone "gslb": spec.records[4].name "eu": "eu.gslb.example.com." is the apex of GslbZone "eu", served here, which answers for it with its own name servers: remove the delegation`},
		{"zone applied where a stored zone delegates", func(f *fixture) []proto.Message {
			return []proto.Message{static(f, "eu", v1.RecordType_RECORD_TYPE_NS, "ns1.example.net.")}
		}, ``},
	})
	// The zone applied at a stored delegation breaks the zone above.
	f := newFixture()
	static(f, "eu", v1.RecordType_RECORD_TYPE_NS, "ns1.example.net.")
	got := errString(CheckApply(wrap(eu()), f.state(), testOpts))
	want := `GslbZone "gslb": spec.records[4].name "eu": "eu.gslb.example.com." is the apex of GslbZone "eu", served here, which answers for it with its own name servers: remove the delegation`
	if got != want {
		t.Errorf("zone applied at a stored delegation:\n got: %s\nwant: %s", got, want)
	}
}

// TestZoneCNAMEsAcrossZones: a static CNAME stands alone at its name
// whatever zone holds the other records there (a zone above reaching into
// one below), and a name server with addresses is not at a CNAME: the DNS
// server answers a name's records of every zone together and refused the
// whole snapshot for a CNAME beside other records.
func TestZoneCNAMEsAcrossZones(t *testing.T) {
	outer := func(edit func(s *v1.GslbZoneSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			z := proto.Clone(newFixture().zone).(*v1.GslbZone)
			z.Metadata.Name = "outer"
			z.Spec.Zone = "example.com."
			z.Spec.NameServers = []*v1.NameServer{{Name: "ns2.example.net."}}
			z.Spec.Records = nil
			edit(z.Spec)
			return []proto.Message{z}
		}
	}
	runApplyCases(t, []applyCase{
		{"static record of a zone above beside nothing", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "other.gslb", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"198.51.100.9"}}}
		}), ``},
		{"CNAME of a zone above beside a zone's records", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "static.gslb", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"elsewhere.example.net."}}}
		}), `GslbZone "outer": spec.records[0].name "static.gslb": CNAME beside the static A records of GslbZone "gslb" at "static.gslb.example.com.": a CNAME must stand alone`},
		{"record of a zone above beside a zone's CNAME", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "docs.gslb", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"hello"}}}
		}), `GslbZone "outer": spec.records[0].name "docs.gslb": "docs.gslb.example.com." is a static CNAME in GslbZone "gslb": a CNAME must stand alone`},
		{"name server of a zone above at a zone's CNAME", outer(func(s *v1.GslbZoneSpec) {
			s.NameServers = append(s.NameServers, &v1.NameServer{Name: "docs.gslb.example.com.", Addresses: []string{"198.51.100.53"}})
		}), `GslbZone "outer": spec.nameServers[1].name "docs.gslb.example.com.": "docs.gslb.example.com." is a static CNAME in GslbZone "gslb": a name server is not an alias (RFC 2181 section 10.3), and its addresses cannot stand beside a CNAME`},
		{"same name and type as a zone's static record", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "static.gslb", Type: v1.RecordType_RECORD_TYPE_A, Ttl: 3600, Values: []string{"198.51.100.81"}}}
		}), `GslbZone "outer": spec.records[0].name "static.gslb": "static.gslb.example.com." A is a static record of GslbZone "gslb" too: DNS servers would answer one RRset of both zones' values, with two TTLs; list every value in one record of one zone`},
		{"same name and type, the other type beside", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "static.gslb", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"x"}}}
		}), ``},
		{"name server addresses at a zone's static record", outer(func(s *v1.GslbZoneSpec) {
			s.NameServers = append(s.NameServers, &v1.NameServer{Name: "static.gslb.example.com.", Addresses: []string{"198.51.100.9"}})
		}), `GslbZone "outer": spec.nameServers[1].addresses: "static.gslb.example.com." holds static A records of other addresses in GslbZone "gslb": which addresses DNS servers answer there would depend on the order of the zones; list the same addresses, or list them in one zone only`},
		{"name server addresses at a zone's name server", outer(func(s *v1.GslbZoneSpec) {
			s.NameServers = append(s.NameServers, &v1.NameServer{Name: "ns1.gslb.example.com.", Addresses: []string{"198.51.100.9"}})
		}), `GslbZone "outer": spec.nameServers[1].addresses: "ns1.gslb.example.com." is a name server of GslbZone "gslb", answered with other A addresses: which addresses DNS servers answer there would depend on the order of the zones; list the same addresses, or list them in one zone only`},
		{"name server of a zone above at a zone's name server, with the same addresses", outer(func(s *v1.GslbZoneSpec) {
			s.NameServers = append(s.NameServers, &v1.NameServer{Name: "ns1.gslb.example.com.", Addresses: []string{"2001:db8:53::53", "198.51.100.53"}})
		}), ``},
		{"static record at a zone's name server", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "ns1.gslb", Type: v1.RecordType_RECORD_TYPE_AAAA, Values: []string{"2001:db8::9"}}}
		}), `GslbZone "outer": spec.records[0].name "ns1.gslb": "ns1.gslb.example.com." is a name server of GslbZone "gslb", answered with other AAAA addresses: which addresses DNS servers answer there would depend on the order of the zones; list the same addresses, or list them in one zone only`},
		{"delegation of a zone above over a zone's static record", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "static.gslb", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}}}
		}), `GslbZone "outer": spec.records[0].name "static.gslb": the delegation of "static.gslb.example.com." hides the static A, AAAA records of GslbZone "gslb" there: a zone cut holds only NS and DS records; remove them or the delegation`},
		{"delegation of a zone above over a name below it", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "gslb", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}}}
		}), `GslbZone "outer": spec.records[0].name "gslb": "gslb.example.com." is the apex of GslbZone "gslb", served here, which answers for it with its own name servers: remove the delegation`},
		{"delegation of a zone above, then a zone's record below it", func(f *fixture) []proto.Message {
			outer := proto.Clone(f.zone).(*v1.GslbZone)
			outer.Metadata.Name = "outer"
			outer.Spec.Zone = "example.com."
			outer.Spec.NameServers = []*v1.NameServer{{Name: "ns2.example.net."}}
			outer.Spec.Records = []*v1.StaticRecord{{Name: "child.gslb", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}}}
			f.zone.Spec.Records = append(f.zone.Spec.Records, &v1.StaticRecord{Name: "www.child", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"x"}})
			return []proto.Message{outer, f.zone}
		}, `GslbZone "outer": spec.records[0].name "child.gslb": the delegation of "child.gslb.example.com." hides the static TXT records of GslbZone "gslb" at "www.child.gslb.example.com.": the child zone answers below it; remove them or the delegation
GslbZone "gslb": spec.records[4].name "www.child": below the delegation at "child.gslb.example.com." of GslbZone "outer": the child zone answers for it`},
		{"mail exchange at a zone's CNAME", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "@", Type: v1.RecordType_RECORD_TYPE_MX, Values: []string{"10 docs.gslb"}}}
		}), `GslbZone "outer": spec.records[0].values[0] "10 docs.gslb": "docs.gslb.example.com." is a static CNAME in GslbZone "gslb": the target of an MX record is not an alias (RFC 2181 section 10.3)`},
		{"delegation to a zone's CNAME", outer(func(s *v1.GslbZoneSpec) {
			s.Records = []*v1.StaticRecord{{Name: "child", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"docs.gslb.example.com."}}}
		}), `GslbZone "outer": spec.records[0].values[0] "docs.gslb.example.com.": "docs.gslb.example.com." is a static CNAME in GslbZone "gslb": the target of an NS record is not an alias (RFC 2181 section 10.3)`},
		{"mail exchange at the zone's own CNAME", func(f *fixture) []proto.Message {
			f.zone.Spec.Records = append(f.zone.Spec.Records, &v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_MX, Values: []string{"10 docs"}})
			return []proto.Message{f.zone}
		}, `GslbZone "gslb": spec.records[4].values[0] "10 docs": "docs.gslb.example.com." is a static CNAME in GslbZone "gslb": the target of an MX record is not an alias (RFC 2181 section 10.3)`},
		{"name server at the zone's own CNAME", func(f *fixture) []proto.Message {
			f.zone.Spec.NameServers = append(f.zone.Spec.NameServers, &v1.NameServer{Name: "docs", Addresses: []string{"198.51.100.53"}})
			return []proto.Message{f.zone}
		}, `GslbZone "gslb": spec.nameServers[2].name "docs": "docs.gslb.example.com." is a static CNAME in GslbZone "gslb": a name server is not an alias (RFC 2181 section 10.3), and its addresses cannot stand beside a CNAME`},
	})
}

// TestCNAMEAppliedAtATargetOfAZoneAbove applies a static CNAME at the name
// a stored zone above names as a mail exchange: the zone above, checked
// again, is refused its alias target.
func TestCNAMEAppliedAtATargetOfAZoneAbove(t *testing.T) {
	f := newFixture()
	outer := proto.Clone(f.zone).(*v1.GslbZone)
	outer.Metadata.Name = "outer"
	outer.Spec.Zone = "example.com."
	outer.Spec.NameServers = []*v1.NameServer{{Name: "ns2.example.net."}}
	outer.Spec.Records = []*v1.StaticRecord{{Name: "@", Type: v1.RecordType_RECORD_TYPE_MX, Values: []string{"10 mail.gslb"}}}
	st := newFixture().state()
	st.Put(wrap(outer)[0])
	f.zone.Spec.Records = append(f.zone.Spec.Records, &v1.StaticRecord{Name: "mail", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"mx.example.net."}})
	got := errString(CheckApply(wrap(f.zone), st, testOpts))
	want := `GslbZone "outer": spec.records[0].values[0] "10 mail.gslb": "mail.gslb.example.com." is a static CNAME in GslbZone "gslb": the target of an MX record is not an alias (RFC 2181 section 10.3)`
	if got != want {
		t.Errorf("CheckApply errors:\n got: %s\nwant: %s", got, want)
	}
}

// TestSameApexZonesInNameOrder applies a zone at an apex two stored zones
// serve: it is refused once for each, in the order of their names.
func TestSameApexZonesInNameOrder(t *testing.T) {
	st := newFixture().state()
	for _, name := range []string{"z-copy", "a-copy"} {
		z := proto.Clone(newFixture().zone).(*v1.GslbZone)
		z.Metadata.Name = name
		st.Put(wrap(z)[0])
	}
	z := proto.Clone(newFixture().zone).(*v1.GslbZone)
	z.Metadata.Name = "m-copy"
	z.Spec.Zone = "GSLB.example.com"
	got := errString(CheckApply(wrap(z), st, testOpts))
	want := `GslbZone "m-copy": spec.zone "GSLB.example.com": same apex as GslbZone "a-copy"
GslbZone "m-copy": spec.zone "GSLB.example.com": same apex as GslbZone "gslb"
GslbZone "m-copy": spec.zone "GSLB.example.com": same apex as GslbZone "z-copy"`
	if got != want {
		t.Errorf("CheckApply errors:\n got: %s\nwant: %s", got, want)
	}
}
