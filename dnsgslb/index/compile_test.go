package index

import (
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func baseSnapshot() *v1.GslbSnapshot {
	return &v1.GslbSnapshot{
		Zones: []*v1.GslbZone{{
			Metadata: &v1.ObjectMeta{Name: "z"},
			Spec:     &v1.GslbZoneSpec{Zone: "example.com.", Soa: &v1.Soa{Minimum: 60}},
		}},
		Origins: []*v1.SnapshotOrigin{{Name: "o1", Healthy: true, Spec: &v1.OriginSpec{Addresses: []string{"192.0.2.1"}}}},
		Records: []*v1.GslbRecord{{
			Metadata: &v1.ObjectMeta{Name: "r"},
			Spec:     &v1.GslbRecordSpec{Zone: "z", Name: "www", Type: v1.RecordType_RECORD_TYPE_A, Origins: []string{"o1"}},
		}},
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		desc   string
		change func(*v1.GslbSnapshot)
		want   string
	}{
		{"bad origin address", func(s *v1.GslbSnapshot) { s.Origins[0].Spec.Addresses = []string{"nope"} },
			`GslbRecord "r": Origin "o1" field addresses[0]: bad address "nope"`},
		{"unknown zone", func(s *v1.GslbSnapshot) { s.Records[0].Spec.Zone = "other" },
			`GslbRecord "r" field zone: no GslbZone "other" in the snapshot`},
		{"name outside zone", func(s *v1.GslbSnapshot) { s.Records[0].Spec.Name = "www.example.org." },
			`GslbRecord "r" field name: "www.example.org." is outside zone "example.com."`},
		{"bad type", func(s *v1.GslbSnapshot) { s.Records[0].Spec.Type = v1.RecordType_RECORD_TYPE_TXT },
			`GslbRecord "r" field type: "RECORD_TYPE_TXT" is not A, AAAA or HTTPS`},
		{"no SOA", func(s *v1.GslbSnapshot) { s.Zones[0].Spec.Soa = nil }, `GslbZone "z": field soa is missing`},
		{"static conflicts with GSLB", func(s *v1.GslbSnapshot) {
			s.Zones[0].Spec.Records = []*v1.StaticRecord{{Name: "www", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.9"}}}
		}, `GslbRecord "r": www.example.com. A is already defined`},
		{"bad static value", func(s *v1.GslbSnapshot) {
			s.Zones[0].Spec.Records = []*v1.StaticRecord{{Name: "x", Type: v1.RecordType_RECORD_TYPE_AAAA, Values: []string{"192.0.2.9"}}}
		}, `GslbZone "z" field records[0]: field values[0]: "192.0.2.9" is not an AAAA address`},
		{"CNAME with other data", func(s *v1.GslbSnapshot) {
			s.Zones[0].Spec.Records = []*v1.StaticRecord{{Name: "www", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"x.example.net."}}}
		}, `a CNAME must be alone`},
		{"residency names a stranger", func(s *v1.GslbSnapshot) {
			s.Records[0].Spec.Residency = []*v1.ResidencyRule{{Continents: []string{"EU"}, Allowed: []string{"o9"}}}
		}, `GslbRecord "r" field residency[0].allowed: "o9" is not a candidate of the record`},
		{"bad cache network", func(s *v1.GslbSnapshot) {
			s.Pops = []*v1.SnapshotPop{{Name: "p", CacheNetworks: []string{"10.0.0.0/33"}}}
		}, `Pop "p" field cache_networks[0]: bad network "10.0.0.0/33"`},
	}
	if _, err := Compile(baseSnapshot(), Options{}); err != nil {
		t.Fatalf("base snapshot: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			s := baseSnapshot()
			tc.change(s)
			_, err := Compile(s, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
