package gslbscale

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Zone is the apex of the generated snapshot's one zone; ZoneObject is the
// GslbZone's name.
const (
	Zone       = "scale.example.com."
	ZoneObject = "scale"
)

// Snapshot returns a snapshot of one zone holding the given number of
// GslbRecords over the given number of origins, deterministic for a seed.
//
// Origins are in data-centre metros taken in turn from every continent
// (ashburn-1, frankfurt-1, tokyo-1, saopaulo-1, sydney-1, johannesburg-1,
// sanjose-1, ...), all healthy, each with an IPv4 address (some two) and
// most with an IPv6 one, random weights, one in ten with a traffic dial
// below 100. Eight PoPs have cache networks (IPv4 and IPv6) and measured
// RTTs to most origins.
//
// Records are services svc00001, svc00002, ...: an A record and, for half
// of them, an AAAA record with the same spec. Each chooses 2 to 5 origins
// (fewer when there are fewer); 70% are nearest, 10% weighted, 10%
// failover, 10% latency; 1% are hybrid (PoP candidates); 5% have a
// residency rule for a continent or a country.
func Snapshot(records, origins int, seed uint64) *v1.GslbSnapshot {
	r := rand.New(rand.NewPCG(seed, 0x5ca1e))
	origins = max(origins, 1)
	snap := &v1.GslbSnapshot{
		Revision:   1,
		CompiledAt: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		Zones:      []*v1.GslbZone{zone()},
	}
	for i := range origins {
		snap.Origins = append(snap.Origins, origin(i, r))
	}
	snap.Pops = pops(snap.Origins, r)
	for svc := 1; len(snap.Records) < records; svc++ {
		a := service(svc, snap, r)
		snap.Records = append(snap.Records, a)
		if len(snap.Records) < records && r.IntN(2) == 0 {
			aaaa := proto.Clone(a).(*v1.GslbRecord)
			aaaa.Metadata.Name += "-v6"
			aaaa.Spec.Type = v1.RecordType_RECORD_TYPE_AAAA
			snap.Records = append(snap.Records, aaaa)
		}
	}
	return snap
}

func zone() *v1.GslbZone {
	a, aaaa := v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA
	return &v1.GslbZone{
		Metadata: &v1.ObjectMeta{Name: ZoneObject},
		Spec: &v1.GslbZoneSpec{
			Zone:       Zone,
			DefaultTtl: 300,
			// Serial 0, the default: the serial follows the snapshot revision.
			Soa: &v1.Soa{Mname: "ns1", Rname: "hostmaster", Refresh: 3600, Retry: 600, Expire: 86400, Minimum: 60},
			NameServers: []*v1.NameServer{
				{Name: "ns1", Addresses: []string{"192.0.2.53", "2001:db8::53"}},
				{Name: "ns2.example.net."},
			},
			Records: []*v1.StaticRecord{
				{Name: "www", Type: a, Values: []string{"192.0.2.80"}},
				{Name: "www", Type: aaaa, Values: []string{"2001:db8::80"}},
				{Name: "alias", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"www." + Zone}},
				{Name: "txt", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"v=spf1 -all"}},
			},
		},
	}
}

func location(m metro) *v1.Location {
	return &v1.Location{Latitude: m.lat, Longitude: m.lon, Country: m.country, Continent: m.continent, Region: m.region, City: m.city}
}

// origin i: IPv4 addresses in 198.18.0.0/15 (benchmarking, not in the
// database), IPv6 in 2001:db8::/32.
func origin(i int, r *rand.Rand) *v1.SnapshotOrigin {
	m := metros[i%len(metros)]
	v4 := func(k uint32) string {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], 0xc6120000+uint32(i)*4+k)
		return netip.AddrFrom4(b).String()
	}
	addrs := []string{v4(1)}
	if r.IntN(10) < 3 {
		addrs = append(addrs, v4(2))
	}
	if r.IntN(100) < 85 {
		addrs = append(addrs, fmt.Sprintf("2001:db8:%x::1", i))
	}
	spec := &v1.OriginSpec{Location: location(m), Addresses: addrs, Weight: int32(1 + r.IntN(100))}
	if r.IntN(10) == 0 {
		spec.TrafficDial = new(int32(10 + r.IntN(81)))
	}
	return &v1.SnapshotOrigin{Name: fmt.Sprintf("%s-%d", m.name, i/len(metros)+1), Healthy: true, Spec: spec}
}

// popSites are the PoPs' names and metros.
var popSites = [][2]string{
	{"nyc", "newyork"}, {"sjc", "sanjose"}, {"lon", "london"}, {"fra", "frankfurt"},
	{"tyo", "tokyo"}, {"sin", "singapore"}, {"syd", "sydney"}, {"gru", "saopaulo"},
}

func metroNamed(name string) metro {
	i := slices.IndexFunc(metros, func(m metro) bool { return m.name == name })
	return metros[i]
}

// pops are eight PoPs, each with two or three cache networks (an IPv4 /24
// or /22 from its registry's space, an IPv6 /48) and RTTs to nine origins in
// ten: 1 ms plus 1.1 to 1.6 ms per 100 km.
func pops(origins []*v1.SnapshotOrigin, r *rand.Rand) []*v1.SnapshotPop {
	var out []*v1.SnapshotPop
	for i, s := range popSites {
		m := metroNamed(s[1])
		reg := arin
		if c := slices.IndexFunc(countries, func(c country) bool { return c.iso == m.country }); c >= 0 {
			reg = registryOf(&countries[c])
		}
		p := &v1.SnapshotPop{
			Name: s[0], Location: location(m), InService: true,
			UnicastAddresses: []string{fmt.Sprintf("203.0.113.%d", i+1), fmt.Sprintf("2001:db8:ffff::%x", i+1)},
			Rtt:              map[string]*durationpb.Duration{},
		}
		for range 1 + r.IntN(2) {
			p.CacheNetworks = append(p.CacheNetworks, cacheNetworkV4(reg, r).String())
		}
		p.CacheNetworks = append(p.CacheNetworks, cacheNetworkV6(reg, r).String())
		here := geo.Location{Latitude: m.lat, Longitude: m.lon}
		for _, o := range origins {
			if r.IntN(10) == 0 {
				continue
			}
			l := o.GetSpec().GetLocation()
			km := geo.DistanceKm(here, geo.Location{Latitude: l.GetLatitude(), Longitude: l.GetLongitude()})
			ms := 1 + km/100*(1.1+0.5*r.Float64())
			p.Rtt[o.GetName()] = durationpb.New(time.Duration(ms * float64(time.Millisecond)).Round(100 * time.Microsecond))
		}
		out = append(out, p)
	}
	return out
}

func cacheNetworkV4(reg registry, r *rand.Rand) netip.Prefix {
	octets := strings.Fields(registryOctets[reg])
	for {
		f := octets[r.IntN(len(octets))]
		lo, _, _ := strings.Cut(f, "-")
		a, _ := strconv.Atoi(lo) // checked by octetRegistry
		b := r.IntN(256)
		if reservedV4(a, b) {
			continue
		}
		bits := 24
		if r.IntN(3) == 0 {
			bits = 22
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a), byte(b), byte(r.IntN(256)), 0}), bits).Masked()
	}
}

func cacheNetworkV6(reg registry, r *rand.Rand) netip.Prefix {
	base := uint32(0x2600)
	for _, rv := range registryV6 {
		if rv.reg == reg {
			base = rv.base
		}
	}
	return v6Prefix(base<<16|uint32(r.IntN(4096)), uint64(r.IntN(1<<16))<<16, 48)
}

// service is the A record of service svc.
func service(svc int, snap *v1.GslbSnapshot, r *rand.Rand) *v1.GslbRecord {
	name := fmt.Sprintf("svc%05d", svc)
	spec := &v1.GslbRecordSpec{Zone: ZoneObject, Name: name, Type: v1.RecordType_RECORD_TYPE_A, Answers: 1}
	spec.Ttl = []uint32{30, 30, 60, 60, 60, 300}[r.IntN(6)]
	switch x := r.IntN(100); {
	case x < 70:
		spec.Policy = v1.Policy_POLICY_NEAREST
	case x < 80:
		spec.Policy = v1.Policy_POLICY_WEIGHTED
	case x < 90:
		spec.Policy = v1.Policy_POLICY_FAILOVER
	default:
		spec.Policy = v1.Policy_POLICY_LATENCY
	}
	rec := &v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: name}, Spec: spec}
	if r.IntN(100) == 0 {
		// Hybrid: the PoPs themselves answer, all of them or a region's.
		spec.Policy = []v1.Policy{v1.Policy_POLICY_NEAREST, v1.Policy_POLICY_LATENCY}[r.IntN(2)]
		spec.Pops = &v1.PopSelector{All: true}
		if r.IntN(2) == 0 {
			spec.Pops = &v1.PopSelector{Regions: []string{[]string{"amer", "emea", "apac"}[r.IntN(3)]}}
		}
		return rec
	}
	if spec.Policy == v1.Policy_POLICY_WEIGHTED || spec.Policy == v1.Policy_POLICY_FAILOVER {
		if r.IntN(5) == 0 {
			spec.Answers = 2
		}
	}
	k := min(2+r.IntN(4), len(snap.Origins))
	var picked []*v1.SnapshotOrigin
	for len(picked) < k {
		o := snap.Origins[r.IntN(len(snap.Origins))]
		if !slices.Contains(picked, o) {
			picked = append(picked, o)
			spec.Origins = append(spec.Origins, o.GetName())
		}
	}
	if r.IntN(20) == 0 {
		// Residency: clients of one candidate's continent (or, one time in
		// three, country) may only get that continent's (country's)
		// candidates.
		c := picked[r.IntN(len(picked))].GetSpec().GetLocation()
		rule := &v1.ResidencyRule{Continents: []string{c.GetContinent()}}
		same := func(l *v1.Location) bool { return l.GetContinent() == c.GetContinent() }
		if r.IntN(3) == 0 {
			rule = &v1.ResidencyRule{Countries: []string{c.GetCountry()}}
			same = func(l *v1.Location) bool { return l.GetCountry() == c.GetCountry() }
		}
		for _, o := range picked {
			if same(o.GetSpec().GetLocation()) {
				rule.Allowed = append(rule.Allowed, o.GetName())
			}
		}
		spec.Residency = []*v1.ResidencyRule{rule}
		spec.WhenAllDown = []v1.AllDownBehavior{v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA, v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN}[r.IntN(2)]
		return rec
	}
	switch x := r.IntN(20); {
	case x < 2:
		spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN
	case x < 3:
		spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA
	case x < 4:
		spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL
	}
	return rec
}
