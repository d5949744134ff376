// Package gslbtest builds the GSLB snapshot the dnsgslb tests and
// benchmarks serve: three origins on three continents plus a dialled one,
// three PoPs with cache networks and RTTs, and a zone with static records
// and one GslbRecord per policy.
package gslbtest

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Zone is the apex of the test zone.
const Zone = "gslb.example.com."

// Client subnets of the test GeoIP database (geotest.Networks) and of the
// PoPs' cache networks.
const (
	Tokyo        = "198.18.0.0/24"
	London       = "198.18.1.0/24"
	NewYork      = "198.18.2.0/24"
	Frankfurt    = "198.18.3.0/24"
	SanFrancisco = "198.18.5.0/24"
	PaloAlto     = "198.18.16.0/20"
	Tokyo6       = "2001:db8:1::/48"
	London6      = "2001:db8:2::/48"
	NewYork6     = "2001:db8:3::/48"
	PopTokyo     = "198.18.100.0/24"
	PopLondon    = "198.18.101.0/24"
	PopNewYork   = "198.18.102.0/24"
)

// Origin addresses.
const (
	USEast4      = "192.0.2.10"
	EUWest4      = "192.0.2.20"
	APNortheast4 = "192.0.2.30"
	USWest4      = "192.0.2.40"
	USEast6      = "2001:db8:a::10"
	EUWest6      = "2001:db8:b::20"
	APNortheast6 = "2001:db8:c::30"
)

func loc(lat, lon float64, country, continent, region, city string) *v1.Location {
	return &v1.Location{Latitude: lat, Longitude: lon, Country: country, Continent: continent, Region: region, City: city}
}

func origin(name string, l *v1.Location, weight int32, addrs ...string) *v1.SnapshotOrigin {
	return &v1.SnapshotOrigin{Name: name, Healthy: true, Spec: &v1.OriginSpec{Location: l, Addresses: addrs, Weight: weight}}
}

func rtt(ms map[string]int) map[string]*durationpb.Duration {
	out := map[string]*durationpb.Duration{}
	for k, v := range ms {
		out[k] = durationpb.New(time.Duration(v) * time.Millisecond)
	}
	return out
}

func record(name, recName string, t v1.RecordType, p v1.Policy, origins ...string) *v1.GslbRecord {
	return &v1.GslbRecord{
		Metadata: &v1.ObjectMeta{Name: name},
		Spec:     &v1.GslbRecordSpec{Zone: "gslb", Name: recName, Type: t, Policy: p, Origins: origins, Ttl: 30},
	}
}

// Snapshot returns a fresh copy of the test snapshot.
func Snapshot() *v1.GslbSnapshot {
	a, aaaa := v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA
	all3 := []string{"us-east", "eu-west", "ap-northeast"}
	dialled := origin("us-west", loc(37.34, -121.89, "US", "NA", "amer", "San Jose"), 10, USWest4)
	dialled.Spec.TrafficDial = new(int32(30))
	big := &v1.StaticRecord{Name: "big", Type: v1.RecordType_RECORD_TYPE_TXT}
	for i := range 8 {
		big.Values = append(big.Values, string(make200(i)))
	}
	hybrid := &v1.GslbRecord{
		Metadata: &v1.ObjectMeta{Name: "edge"},
		Spec: &v1.GslbRecordSpec{Zone: "gslb", Name: "edge", Type: a, Policy: v1.Policy_POLICY_NEAREST,
			Pops: &v1.PopSelector{All: true}, Ttl: 30},
	}
	euOnly := record("eu-only", "eu-only", a, v1.Policy_POLICY_NEAREST, all3...)
	euOnly.Spec.Residency = []*v1.ResidencyRule{{Continents: []string{"EU"}, Allowed: []string{"eu-west"}}}
	euOnly.Spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA
	euOpen := record("eu-open", "eu-open", a, v1.Policy_POLICY_NEAREST, all3...)
	euOpen.Spec.Residency = []*v1.ResidencyRule{{Continents: []string{"EU"}, Allowed: []string{"eu-west"}}}
	euOpen.Spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN
	strict := record("strict", "strict", a, v1.Policy_POLICY_FAILOVER, "eu-west")
	strict.Spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL
	failover := record("failover", "failover", a, v1.Policy_POLICY_FAILOVER, "eu-west", "us-east", "ap-northeast")
	failover.Spec.Answers = 2
	return &v1.GslbSnapshot{
		Revision:   7,
		CompiledAt: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		Zones: []*v1.GslbZone{{
			Metadata: &v1.ObjectMeta{Name: "gslb"},
			Spec: &v1.GslbZoneSpec{
				Zone:       Zone,
				DefaultTtl: 300,
				Soa:        &v1.Soa{Mname: "ns1", Rname: "hostmaster", Serial: 2026010201, Refresh: 3600, Retry: 600, Expire: 86400, Minimum: 60},
				NameServers: []*v1.NameServer{
					{Name: "ns1", Addresses: []string{"192.0.2.53", "2001:db8::53"}},
					{Name: "ns2.example.net."},
				},
				Records: []*v1.StaticRecord{
					{Name: "www", Type: a, Values: []string{"192.0.2.80"}},
					{Name: "www", Type: aaaa, Values: []string{"2001:db8::80"}},
					{Name: "alias", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"www.gslb.example.com."}},
					{Name: "txt", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"hello world"}},
					{Name: "a.deep", Type: a, Values: []string{"192.0.2.81"}},
					big,
				},
			},
		}},
		Origins: []*v1.SnapshotOrigin{
			origin("us-east", loc(39.04, -77.49, "US", "NA", "amer", "Ashburn"), 60, USEast4, USEast6),
			origin("eu-west", loc(53.35, -6.26, "IE", "EU", "emea", "Dublin"), 30, EUWest4, EUWest6),
			origin("ap-northeast", loc(35.68, 139.69, "JP", "AS", "apac", "Tokyo"), 10, APNortheast4, APNortheast6),
			dialled,
		},
		Pops: []*v1.SnapshotPop{
			{Name: "tyo", Location: loc(35.68, 139.69, "JP", "AS", "apac", "Tokyo"), InService: true,
				UnicastAddresses: []string{"203.0.113.1"}, CacheNetworks: []string{PopTokyo},
				// A congested trans-Pacific path in reverse: Tokyo measures
				// us-east closer than its own region.
				Rtt: rtt(map[string]int{"us-east": 90, "eu-west": 210, "ap-northeast": 140})},
			{Name: "lon", Location: loc(51.51, -0.13, "GB", "EU", "emea", "London"), InService: true,
				UnicastAddresses: []string{"203.0.113.2"}, CacheNetworks: []string{PopLondon},
				Rtt: rtt(map[string]int{"us-east": 75, "eu-west": 12, "ap-northeast": 230})},
			{Name: "nyc", Location: loc(40.71, -74.01, "US", "NA", "amer", "New York"), InService: true,
				UnicastAddresses: []string{"203.0.113.3"}, CacheNetworks: []string{PopNewYork},
				Rtt: rtt(map[string]int{"us-east": 6, "eu-west": 70, "ap-northeast": 160})},
		},
		Records: []*v1.GslbRecord{
			record("nearest", "nearest", a, v1.Policy_POLICY_NEAREST, all3...),
			record("nearest6", "nearest", aaaa, v1.Policy_POLICY_NEAREST, all3...),
			record("latency", "latency", a, v1.Policy_POLICY_LATENCY, all3...),
			record("weighted", "weighted", a, v1.Policy_POLICY_WEIGHTED, all3...),
			failover,
			record("dialled", "dialled", a, v1.Policy_POLICY_NEAREST, "us-west", "us-east"),
			hybrid, euOnly, euOpen, strict,
		},
	}
}

// make200 returns 200 letters, the alphabet over and over from the
// letter at shift: values that differ, as the records of an RRset do.
func make200(shift int) []byte {
	b := make([]byte, 200)
	for i := range b {
		b[i] = 'a' + byte((i+shift)%26)
	}
	return b
}

// SetHealthy returns the snapshot with an origin's health verdict changed
// and the revision bumped.
func SetHealthy(snap *v1.GslbSnapshot, name string, healthy bool) *v1.GslbSnapshot {
	for _, o := range snap.GetOrigins() {
		if o.GetName() == name {
			o.Healthy = healthy
			o.HealthReason = ""
			if !healthy {
				o.HealthReason = "2 of 3 vantage points see it down"
			}
		}
	}
	snap.Revision++
	return snap
}
