package validation

import (
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

func TestRecordRules(t *testing.T) {
	nearest := func(edit func(s *v1.GslbRecordSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			edit(f.nearest.Spec)
			return []proto.Message{f.nearest}
		}
	}
	hybrid := func(edit func(s *v1.GslbRecordSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			edit(f.hybrid.Spec)
			return []proto.Message{f.hybrid}
		}
	}
	runApplyCases(t, []applyCase{
		{"spec missing", func(f *fixture) []proto.Message {
			f.nearest.Spec = nil
			return []proto.Message{f.nearest}
		}, `GslbRecord "origin": spec: required`},
		{"zone missing", nearest(func(s *v1.GslbRecordSpec) { s.Zone = "" }),
			`GslbRecord "origin": spec.zone: required: the name of a GslbZone`},
		{"unknown zone", nearest(func(s *v1.GslbRecordSpec) { s.Zone = "cdn" }),
			`GslbRecord "origin": spec.zone "cdn": unknown GslbZone`},
		{"name missing", nearest(func(s *v1.GslbRecordSpec) { s.Name = "" }),
			`GslbRecord "origin": spec.name: required: use "@" for the zone apex`},
		{"name at the apex", nearest(func(s *v1.GslbRecordSpec) { s.Name = "@" }), ``},
		{"name outside the zone", nearest(func(s *v1.GslbRecordSpec) { s.Name = "origin.example.com." }),
			`GslbRecord "origin": spec.name "origin.example.com.": outside zone "gslb.example.com."`},
		{"name malformed", nearest(func(s *v1.GslbRecordSpec) { s.Name = "origin!" }),
			`GslbRecord "origin": spec.name "origin!": label "origin!" holds '!': use letters, digits, '-' and '_'`},
		{"relative name repeating the zone", nearest(func(s *v1.GslbRecordSpec) { s.Name = "origin.gslb.example.com" }),
			`GslbRecord "origin": spec.name "origin.gslb.example.com": relative name repeats the zone (it would mean "origin.gslb.example.com.gslb.example.com."); write "origin.gslb.example.com." with the trailing dot, or the name relative to the zone`},
		{"same name and type as another record", func(f *fixture) []proto.Message {
			f.weighted.Spec.Name = "ORIGIN.gslb.example.com."
			return []proto.Message{f.weighted}
		}, `GslbRecord "api": spec.name "ORIGIN.gslb.example.com.": same name and type as GslbRecord "origin"`},
		{"same name as a static record", nearest(func(s *v1.GslbRecordSpec) { s.Name = "static" }),
			`GslbRecord "origin": spec.name "static": "static.gslb.example.com." RECORD_TYPE_A is a static record in GslbZone "gslb"`},
		{"same name as a static CNAME", nearest(func(s *v1.GslbRecordSpec) { s.Name = "docs" }),
			`GslbRecord "origin": spec.name "docs": "docs.gslb.example.com." is a static CNAME in GslbZone "gslb"`},
		{"type missing", nearest(func(s *v1.GslbRecordSpec) { s.Type = v1.RecordType_RECORD_TYPE_UNSPECIFIED }),
			`GslbRecord "origin": spec.type: required: RECORD_TYPE_A, RECORD_TYPE_AAAA or RECORD_TYPE_HTTPS`},
		{"type CNAME", nearest(func(s *v1.GslbRecordSpec) { s.Type = v1.RecordType_RECORD_TYPE_CNAME }),
			`GslbRecord "origin": spec.type "RECORD_TYPE_CNAME": GSLB answers A, AAAA or HTTPS only; put other types in the zone's static records`},
		{"empty origin set", nearest(func(s *v1.GslbRecordSpec) { s.Origins = nil; s.Residency = nil }),
			`GslbRecord "origin": spec.origins: empty origin set: list origins or select pops`},
		{"origins and pops", nearest(func(s *v1.GslbRecordSpec) { s.Pops = &v1.PopSelector{All: true} }),
			`GslbRecord "origin": spec.pops: set origins or pops, not both`},
		{"unknown origin", nearest(func(s *v1.GslbRecordSpec) { s.Origins[1] = "ord" }),
			`GslbRecord "origin": spec.origins[1] "ord": unknown Origin`},
		{"origin listed twice", nearest(func(s *v1.GslbRecordSpec) { s.Origins[2] = "fra" }),
			`GslbRecord "origin": spec.origins[2] "fra": duplicate of spec.origins[0]`},
		{"A record without IPv4 candidates", func(f *fixture) []proto.Message {
			f.iad.Spec.Addresses = []string{"2001:db8:100::101"}
			f.iad.Spec.HealthCheck.Target = "[2001:db8:100::101]:443"
			f.failover.Spec.Origins = []string{"iad"}
			return []proto.Message{f.iad, f.failover}
		}, `GslbRecord "assets": spec.type "RECORD_TYPE_A": no candidate has an IPv4 address`},
		{"AAAA record without IPv6 candidates", func(f *fixture) []proto.Message {
			f.latency.Spec.Origins = []string{"sin"}
			return []proto.Message{f.latency}
		}, `GslbRecord "origin-v6": spec.type "RECORD_TYPE_AAAA": no candidate has an IPv6 address`},
		{"origin change breaks a stored record", func(f *fixture) []proto.Message {
			f.iad.Spec.Addresses = []string{"198.51.100.101"}
			f.fra.Spec.Addresses = []string{"198.51.100.100"}
			return []proto.Message{f.fra, f.iad}
		}, `GslbRecord "origin-v6": spec.type "RECORD_TYPE_AAAA": no candidate has an IPv6 address`},
		{"hybrid record without unicast addresses", func(f *fixture) []proto.Message {
			f.hybrid.Spec.Pops = &v1.PopSelector{Names: []string{"tokyo"}}
			f.tokyo.Spec.UnicastAddresses = []string{"198.51.100.11"}
			return []proto.Message{f.tokyo, f.hybrid}
		}, `GslbRecord "edge": spec.type "RECORD_TYPE_AAAA": no selected PoP has an IPv6 address`},
		{"hybrid record selects an unknown PoP", hybrid(func(s *v1.GslbRecordSpec) { s.Pops = &v1.PopSelector{Names: []string{"tokyo", "osaka"}} }),
			`GslbRecord "edge": spec.pops.names[1] "osaka": unknown Pop`},
		{"hybrid record selects nothing", hybrid(func(s *v1.GslbRecordSpec) { s.Pops = &v1.PopSelector{} }),
			`GslbRecord "edge": spec.pops: selects nothing: set all, names or regions`},
		{"policy missing", nearest(func(s *v1.GslbRecordSpec) { s.Policy = v1.Policy_POLICY_UNSPECIFIED }),
			`GslbRecord "origin": spec.policy: required: one of POLICY_NEAREST, POLICY_LATENCY, POLICY_WEIGHTED, POLICY_FAILOVER`},
		{"policy unknown", nearest(func(s *v1.GslbRecordSpec) { s.Policy = 5 }),
			`GslbRecord "origin": spec.policy "5": unknown policy`},
		{"type unknown", nearest(func(s *v1.GslbRecordSpec) { s.Type = 99 }),
			`GslbRecord "origin": spec.type "99": unknown record type`},
		{"answers above 8", nearest(func(s *v1.GslbRecordSpec) { s.Answers = 9 }),
			`GslbRecord "origin": spec.answers "9": outside 1..8 (0 means 1)`},
		{"TTL above a day", nearest(func(s *v1.GslbRecordSpec) { s.Ttl = 86401 }),
			`GslbRecord "origin": spec.ttl "86401": outside 1..86400 (0 means the zone's defaultTtl)`},
		{"TTL from a zone default above a day", func(f *fixture) []proto.Message {
			f.zone.Spec.DefaultTtl = 604800
			f.nearest.Spec.Ttl = 0
			return []proto.Message{f.zone, f.nearest}
		}, `GslbRecord "origin": spec.ttl "0": 0 means the zone's defaultTtl, 604800, outside 1..86400: set a TTL for the record
GslbRecord "origin-v6": spec.ttl "0": 0 means the zone's defaultTtl, 604800, outside 1..86400: set a TTL for the record`},
		{"when all down unknown", nearest(func(s *v1.GslbRecordSpec) { s.WhenAllDown = 4 }),
			`GslbRecord "origin": spec.whenAllDown "4": unknown behaviour`},
		{"residency unknown continent", nearest(func(s *v1.GslbRecordSpec) { s.Residency[0].Continents[0] = "eu" }),
			`GslbRecord "origin": spec.residency[0].continents[0] "eu": unknown continent code; did you mean "EU"?`},
		{"residency unknown country", nearest(func(s *v1.GslbRecordSpec) { s.Residency[0].Countries[1] = "UK" }),
			`GslbRecord "origin": spec.residency[0].countries[1] "UK": unknown country code: want an ISO 3166-1 alpha-2 code such as "JP"`},
		{"residency for Kosovo", nearest(func(s *v1.GslbRecordSpec) { s.Residency[0].Countries[1] = "XK" }), ``},
		{"residency rule after one matching the same country", nearest(func(s *v1.GslbRecordSpec) {
			s.Residency = []*v1.ResidencyRule{
				{Countries: []string{"DE"}, Allowed: []string{"fra"}},
				{Countries: []string{"DE", "FR"}, Allowed: []string{"iad"}},
			}
		}), `GslbRecord "origin": spec.residency[1].countries[0] "DE": never applies: spec.residency[0] matches these clients first (the first rule that matches a client applies); merge the rules, or drop it`},
		{"residency country after its continent", nearest(func(s *v1.GslbRecordSpec) {
			s.Residency = []*v1.ResidencyRule{
				{Continents: []string{"EU"}, Allowed: []string{"fra"}},
				{Countries: []string{"DE"}, Allowed: []string{"iad"}},
			}
		}), `GslbRecord "origin": spec.residency[1].countries[0] "DE": never applies: spec.residency[0] matches these clients first (the first rule that matches a client applies), as DE is in EU; put the rule for DE first`},
		{"residency country of two continents after one", nearest(func(s *v1.GslbRecordSpec) {
			s.Residency = []*v1.ResidencyRule{
				{Continents: []string{"EU"}, Allowed: []string{"fra"}},
				{Countries: []string{"RU"}, Allowed: []string{"iad"}},
			}
		}), ``},
		{"residency continent repeated", nearest(func(s *v1.GslbRecordSpec) {
			s.Residency = []*v1.ResidencyRule{
				{Continents: []string{"EU"}, Allowed: []string{"fra"}},
				{Continents: []string{"AS", "EU"}, Allowed: []string{"sin"}},
			}
		}), `GslbRecord "origin": spec.residency[1].continents[1] "EU": never applies: spec.residency[0] matches these clients first (the first rule that matches a client applies); merge the rules, or drop it`},
		{"residency matching nobody", nearest(func(s *v1.GslbRecordSpec) { s.Residency[0].Continents, s.Residency[0].Countries = nil, nil }),
			`GslbRecord "origin": spec.residency[0]: matches no client: list continents or countries`},
		{"residency allowing nothing", nearest(func(s *v1.GslbRecordSpec) { s.Residency[0].Allowed = nil }),
			`GslbRecord "origin": spec.residency[0].allowed: required: the candidates these clients may be answered with`},
		{"residency allowing a non-candidate", nearest(func(s *v1.GslbRecordSpec) {
			s.Residency = append(s.Residency, &v1.ResidencyRule{Countries: []string{"SG"}, Allowed: []string{"sin", "hkg"}})
		}), `GslbRecord "origin": spec.residency[1].allowed[1] "hkg": not among the record's candidates`},
		{"hybrid residency allowing an unselected PoP", hybrid(func(s *v1.GslbRecordSpec) {
			s.Pops = &v1.PopSelector{Regions: []string{"americas"}}
		}), `GslbRecord "edge": spec.residency[0].allowed[0] "tokyo": not among the record's candidates`},
		{"every problem of a record", nearest(func(s *v1.GslbRecordSpec) {
			s.Answers = 10
			s.Origins[0] = "ams"
			s.Ttl = 100000
		}), strings.Join([]string{
			`GslbRecord "origin": spec.answers "10": outside 1..8 (0 means 1)`,
			`GslbRecord "origin": spec.origins[0] "ams": unknown Origin`,
			`GslbRecord "origin": spec.residency[0].allowed[0] "fra": not among the record's candidates`,
			`GslbRecord "origin": spec.ttl "100000": outside 1..86400 (0 means the zone's defaultTtl)`,
		}, "\n")},
	})
}

// TestRecordInsideAnotherZone refuses a GslbRecord whose name lies in
// another GslbZone served beside its own (a zone for a name below its
// apex): that zone answers for the name, and a DNS server cannot build
// an index holding both (a record of one zone at a name of the other,
// beside its static records, under its cuts or at its apex), so one such
// record would make every snapshot fail on every DNS server. A zone
// applied over existing records is refused on those records.
func TestRecordInsideAnotherZone(t *testing.T) {
	eu := func() *v1.GslbZone {
		z := proto.Clone(newFixture().zone).(*v1.GslbZone)
		z.Metadata.Name = "eu"
		z.Spec.Zone = "eu.gslb.example.com."
		z.Spec.Records = []*v1.StaticRecord{{Name: "www", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"198.51.100.81"}}}
		return z
	}
	runApplyCases(t, []applyCase{
		{"record at a static record of a zone below", func(f *fixture) []proto.Message {
			f.nearest.Spec.Name = "www.eu"
			return []proto.Message{eu(), f.nearest}
		}, `GslbRecord "origin": spec.name "www.eu": "www.eu.gslb.example.com." is inside GslbZone "eu" (eu.gslb.example.com.), which answers for it: put the record in that zone`},
		{"record at the apex of a zone below", func(f *fixture) []proto.Message {
			f.nearest.Spec.Name = "EU.gslb.example.com."
			return []proto.Message{eu(), f.nearest}
		}, `GslbRecord "origin": spec.name "EU.gslb.example.com.": "eu.gslb.example.com." is inside GslbZone "eu" (eu.gslb.example.com.), which answers for it: put the record in that zone`},
		{"record in the zone below", func(f *fixture) []proto.Message {
			f.nearest.Spec.Zone, f.nearest.Spec.Name = "eu", "origin"
			return []proto.Message{eu(), f.nearest}
		}, ``},
		{"zone below applied over a stored record", func(f *fixture) []proto.Message {
			z := eu()
			z.Spec.Zone = "api.gslb.example.com."
			return []proto.Message{z}
		}, `GslbRecord "api": spec.name "api.gslb.example.com.": "api.gslb.example.com." is inside GslbZone "eu" (api.gslb.example.com.), which answers for it: put the record in that zone`},
	})
}

// TestRecordAtANameServer refuses a GslbRecord at the name of one of its
// zone's name servers inside the zone, of a type the name server has
// addresses of: DNS servers answer that name and type with the name
// server's addresses (its glue), and could not build an index holding
// the record too, so one such record made every snapshot fail on every
// DNS server.
func TestRecordAtANameServer(t *testing.T) {
	nearest := func(name string) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			f.nearest.Spec.Name = name
			return []proto.Message{f.nearest}
		}
	}
	runApplyCases(t, []applyCase{
		{"A at a name server with IPv4 glue", nearest("NS1"),
			`GslbRecord "origin": spec.name "NS1": "ns1.gslb.example.com." is a name server of GslbZone "gslb", answered with its A addresses in spec.nameServers: give the record another name`},
		{"AAAA at a name server with IPv6 glue", func(f *fixture) []proto.Message {
			f.latency.Spec.Name = "ns1.gslb.example.com."
			return []proto.Message{f.latency}
		}, `GslbRecord "origin-v6": spec.name "ns1.gslb.example.com.": "ns1.gslb.example.com." is a name server of GslbZone "gslb", answered with its AAAA addresses in spec.nameServers: give the record another name`},
		{"A at an outer zone's name server inside the zone", func(f *fixture) []proto.Message {
			z := proto.Clone(f.zone).(*v1.GslbZone)
			z.Metadata.Name, z.Spec.Zone, z.Spec.Records = "outer", "example.com.", nil
			z.Spec.NameServers = []*v1.NameServer{{Name: "ns9.gslb.example.com.", Addresses: []string{"198.51.100.59"}}}
			f.nearest.Spec.Name = "ns9"
			return []proto.Message{z, f.nearest}
		}, `GslbRecord "origin": spec.name "ns9": "ns9.gslb.example.com." is a name server of GslbZone "outer", answered with its A addresses in spec.nameServers: give the record another name`},
		{"A at a name server without IPv4 glue", func(f *fixture) []proto.Message {
			z := proto.Clone(f.zone).(*v1.GslbZone)
			z.Spec.NameServers[0].Addresses = []string{"2001:db8:53::53"}
			f.nearest.Spec.Name = "ns1"
			return []proto.Message{z, f.nearest}
		}, ``},
	})
}

// TestRecordAtAStaticRecordOfAnOuterZone refuses a GslbRecord at the name
// and type of a static record (or a static CNAME) that a zone above its
// own holds at a name inside its zone: DNS servers hold one node per name
// and could not build an index with both, so every snapshot failed on
// every DNS server.
func TestRecordAtAStaticRecordOfAnOuterZone(t *testing.T) {
	outer := func(recs ...*v1.StaticRecord) *v1.GslbZone {
		z := proto.Clone(newFixture().zone).(*v1.GslbZone)
		z.Metadata.Name = "outer"
		z.Spec.Zone = "example.com."
		z.Spec.Records = recs
		return z
	}
	runApplyCases(t, []applyCase{
		{"outer zone applied with a static record at a stored record", func(f *fixture) []proto.Message {
			return []proto.Message{outer(&v1.StaticRecord{Name: "origin.gslb", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"198.51.100.9"}})}
		}, `GslbRecord "origin": spec.name "origin": "origin.gslb.example.com." RECORD_TYPE_A is a static record in GslbZone "outer"`},
		{"record applied at a static CNAME of an outer zone", func(f *fixture) []proto.Message {
			f.nearest.Spec.Name = "www"
			return []proto.Message{outer(&v1.StaticRecord{Name: "www.gslb", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"www.example.net."}}), f.nearest}
		}, `GslbRecord "origin": spec.name "www": "www.gslb.example.com." is a static CNAME in GslbZone "outer"`},
		{"outer zone's static record of another type", func(f *fixture) []proto.Message {
			return []proto.Message{outer(&v1.StaticRecord{Name: "origin.gslb", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"hello"}})}
		}, ``},
	})
}

// TestRecordUnderAnOuterZonesDelegation refuses a GslbRecord below a name
// that a zone above its own delegates (NS records at a name inside its
// zone): DNS servers answer that name with a referral and could not
// build an index holding the record, so every snapshot failed.
func TestRecordUnderAnOuterZonesDelegation(t *testing.T) {
	outer := func(cut string) *v1.GslbZone {
		z := proto.Clone(newFixture().zone).(*v1.GslbZone)
		z.Metadata.Name = "outer"
		z.Spec.Zone = "example.com."
		z.Spec.Records = []*v1.StaticRecord{{Name: cut, Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}}}
		return z
	}
	runApplyCases(t, []applyCase{
		{"outer zone applied delegating a stored record's name", func(f *fixture) []proto.Message {
			return []proto.Message{outer("origin.gslb")}
		}, `GslbRecord "origin": spec.name "origin": "origin.gslb.example.com." is delegated to a child zone at "origin.gslb.example.com." in GslbZone "outer": the child zone answers for it
GslbRecord "origin-v6": spec.name "origin": "origin.gslb.example.com." is delegated to a child zone at "origin.gslb.example.com." in GslbZone "outer": the child zone answers for it`},
		{"record applied below an outer zone's delegation", func(f *fixture) []proto.Message {
			f.weighted.Spec.Name = "api.eu"
			return []proto.Message{outer("eu.gslb"), f.weighted}
		}, `GslbRecord "api": spec.name "api.eu": "api.eu.gslb.example.com." is delegated to a child zone at "eu.gslb.example.com." in GslbZone "outer": the child zone answers for it`},
	})
}
