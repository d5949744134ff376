package compile

import (
	"fmt"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/anyctl/anyctl/resource"
)

var benchRegions = []string{"emea", "apac", "nam", "latam", "africa", "oceania", "india", "mideast"}

// bigFleet builds pops PoPs over eight regions with two peers each, and
// services services of two prefixes, every fifth selecting all PoPs and
// the rest one or two regions. Twenty origins back records that each pick
// three of them; every PoP has measured RTTs to every origin.
func bigFleet(pops, services int) (*resource.State, Observed) {
	s := resource.NewState()
	obs := Observed{Drain: map[string]DrainStep{}, OriginHealth: map[string]OriginHealth{}, RTT: map[string]map[string]time.Duration{}}
	const origins, records = 20, 50
	for i := range pops {
		name := fmt.Sprintf("pop-%03d", i)
		s.Put(resource.Wrap(&v1.Pop{Metadata: meta(name), Spec: &v1.PopSpec{
			Location: &v1.Location{Latitude: float64(i % 90), Longitude: float64(i % 180), Country: "XX", Region: benchRegions[i%len(benchRegions)]},
			LocalAsn: 64512,
			RouterId: fmt.Sprintf("10.%d.%d.1", i/256, i%256),
			Peers: []*v1.BgpPeer{
				{Address: fmt.Sprintf("10.%d.%d.2", i/256, i%256), PeerAsn: 64500},
				{Address: fmt.Sprintf("2001:db8:%x::2", i), PeerAsn: 64500},
			},
			UnicastAddresses: []string{fmt.Sprintf("198.18.%d.%d", i/256, i%256)},
			CacheNetworks:    []string{fmt.Sprintf("100.%d.%d.0/24", i/256, i%256)},
			Maintenance:      i%97 == 0,
		}}))
		if i%50 == 1 {
			obs.Drain[name] = DrainStep(1 + i%3)
		}
		rtt := map[string]time.Duration{}
		for o := range origins {
			rtt[fmt.Sprintf("origin-%02d", o)] = time.Duration(i+o) * time.Millisecond
		}
		obs.RTT[name] = rtt
	}
	for i := range services {
		sel := &v1.PopSelector{Regions: []string{benchRegions[i%len(benchRegions)]}}
		switch {
		case i%5 == 0:
			sel = &v1.PopSelector{All: true}
		case i%3 == 0:
			sel.Regions = append(sel.Regions, benchRegions[(i+3)%len(benchRegions)])
		}
		s.Put(resource.Wrap(&v1.AnycastService{Metadata: meta(fmt.Sprintf("svc-%03d", i)), Spec: &v1.AnycastServiceSpec{
			Prefixes:    []string{fmt.Sprintf("2001:db8:%x::/48", 0x1000+i), fmt.Sprintf("192.0.%d.0/24", i)},
			Pops:        sel,
			HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP, Target: ":80", Rise: 2, Fall: 3},
			Announce:    &v1.AnnounceAttributes{Communities: []string{"65000:200", "65000:100"}},
		}}))
	}
	for o := range origins {
		name := fmt.Sprintf("origin-%02d", o)
		s.Put(resource.Wrap(&v1.Origin{Metadata: meta(name), Spec: &v1.OriginSpec{
			Location:  &v1.Location{Latitude: float64(o), Longitude: float64(o), Country: "XX"},
			Addresses: []string{fmt.Sprintf("198.19.%d.1", o)},
			Weight:    int32(o + 1),
		}}))
		if o%4 == 0 {
			obs.OriginHealth[name] = OriginHealth{Healthy: false, Reason: "down"}
		}
	}
	s.Put(resource.Wrap(&v1.GslbZone{Metadata: meta("zone"), Spec: &v1.GslbZoneSpec{Zone: "gslb.example.com.", DefaultTtl: 30}}))
	for r := range records {
		spec := &v1.GslbRecordSpec{Zone: "zone", Name: fmt.Sprintf("r%d", r), Type: v1.RecordType_RECORD_TYPE_A}
		if r%10 == 0 {
			spec.Pops = &v1.PopSelector{Regions: []string{benchRegions[r%len(benchRegions)]}}
		} else {
			spec.Origins = []string{fmt.Sprintf("origin-%02d", r%origins), fmt.Sprintf("origin-%02d", (r+7)%origins), fmt.Sprintf("origin-%02d", (r+13)%origins)}
		}
		s.Put(resource.Wrap(&v1.GslbRecord{Metadata: meta(fmt.Sprintf("record-%02d", r)), Spec: spec}))
	}
	s.Revision = 1
	return s, obs
}

func BenchmarkPopConfigs500x100(b *testing.B) {
	s, obs := bigFleet(500, 100)
	var assignments int
	for _, cfg := range PopConfigs(s, obs) {
		assignments += len(cfg.Services)
	}
	if assignments == 0 {
		b.Fatal("the benchmark fleet assigns no services")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		PopConfigs(s, obs)
	}
	b.ReportMetric(float64(assignments), "assignments/op")
}

func BenchmarkGslbSnapshot(b *testing.B) {
	s, obs := bigFleet(500, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		GslbSnapshot(s, obs)
	}
}

// BenchmarkPopConfig compiles one PoP's config, as an agent stream does on
// every change.
func BenchmarkPopConfig(b *testing.B) {
	s, obs := bigFleet(500, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := PopConfig(s, "pop-123", obs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFleetPopConfigs500x100 compiles a Fleet afresh and puts every
// PoP's config together from it, encoded: what PopConfigs500x100 does for
// the agent streams.
func BenchmarkFleetPopConfigs500x100(b *testing.B) {
	s, obs := bigFleet(500, 100)
	names := resource.SortedNames(s.Pops)
	b.ReportAllocs()
	b.ResetTimer()
	var buf []byte
	for b.Loop() {
		f := NewFleet(s, nil)
		for _, name := range names {
			var err error
			if buf, err = f.AppendPopConfig(buf[:0], name, obs); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFleetChange500x100 is one change on a controller: a service on
// every PoP gets another health-check interval; the Fleet is compiled from
// the previous one and every PoP's config put together, encoded.
func BenchmarkFleetChange500x100(b *testing.B) {
	s, obs := bigFleet(500, 100)
	names := resource.SortedNames(s.Pops)
	f := NewFleet(s, nil)
	b.ReportAllocs()
	b.ResetTimer()
	var buf []byte
	for i := 0; b.Loop(); i++ {
		next := s.Clone()
		svc := proto.Clone(next.Services["svc-000"]).(*v1.AnycastService)
		svc.Spec.HealthCheck.Interval = durationpb.New(time.Duration(1+i%2) * time.Second)
		next.Put(resource.Wrap(svc))
		next.Revision++
		f = NewFleet(next, f)
		for _, name := range names {
			var err error
			if buf, err = f.AppendPopConfig(buf[:0], name, obs); err != nil {
				b.Fatal(err)
			}
		}
		s = next
	}
}
