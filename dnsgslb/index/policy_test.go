package index

import (
	"slices"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

var (
	tokyo  = geo.Location{Latitude: 35.68, Longitude: 139.69}
	dublin = geo.Location{Latitude: 53.35, Longitude: -6.26}
	ashbrn = geo.Location{Latitude: 39.04, Longitude: -77.49}
)

func testCands() []candidate {
	return []candidate{
		{name: "us", location: ashbrn, weight: 60, dial: 100},
		{name: "eu", location: dublin, weight: 30, dial: 100},
		{name: "ap", location: tokyo, weight: 10, dial: 100},
	}
}

func names(c []candidate, order []int) []string {
	var out []string
	for _, i := range order {
		out = append(out, c[i].name)
	}
	return out
}

func TestRankBase(t *testing.T) {
	c := testCands()
	tests := []struct {
		desc   string
		policy v1.Policy
		cl     client
		want   []string
	}{
		{"nearest from Tokyo", v1.Policy_POLICY_NEAREST, client{class: geo.Class{Location: tokyo}}, []string{"ap", "eu", "us"}},
		{"nearest from Dublin", v1.Policy_POLICY_NEAREST, client{class: geo.Class{Location: dublin}}, []string{"eu", "us", "ap"}},
		{"failover", v1.Policy_POLICY_FAILOVER, client{class: geo.Class{Location: tokyo}}, []string{"us", "eu", "ap"}},
		{"latency by RTT", v1.Policy_POLICY_LATENCY, client{class: geo.Class{Location: tokyo, Pop: "tyo"},
			rtt: map[string]time.Duration{"us": 90 * time.Millisecond, "ap": 140 * time.Millisecond}}, []string{"us", "ap", "eu"}},
		{"latency without RTTs is nearest", v1.Policy_POLICY_LATENCY, client{class: geo.Class{Location: tokyo}}, []string{"ap", "eu", "us"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, _ := rankBase(tc.policy, c, []int{0, 1, 2}, &tc.cl)
			if !slices.Equal(names(c, got), tc.want) {
				t.Errorf("order %q, want %q", names(c, got), tc.want)
			}
		})
	}
}

func TestWeightedShares(t *testing.T) {
	c := testCands()
	first := map[string]int{}
	for b := range Buckets {
		order := weightedOrder(c, []int{0, 1, 2}, b)
		if len(order) != 3 {
			t.Fatalf("bucket %d: order %v lost candidates", b, order)
		}
		first[c[order[0]].name]++
	}
	if first["us"] != 60 || first["eu"] != 30 || first["ap"] != 10 {
		t.Errorf("first choices over %d buckets: %v, want 60/30/10", Buckets, first)
	}
	c[2].weight = 0
	for b := range Buckets {
		if order := weightedOrder(c, []int{0, 1, 2}, b); c[order[2]].name != "ap" {
			t.Fatalf("bucket %d: weight 0 candidate not last: %q", b, names(c, order))
		}
	}
}

func TestDial(t *testing.T) {
	c := testCands()
	c[0].dial = 30
	tests := []struct {
		bucket int
		want   []string
	}{
		{0, []string{"us", "eu", "ap"}},
		{29, []string{"us", "eu", "ap"}},
		{30, []string{"eu", "ap", "us"}},
		{99, []string{"eu", "ap", "us"}},
	}
	for _, tc := range tests {
		got, _ := applyDial(c, []int{0, 1, 2}, tc.bucket)
		if !slices.Equal(names(c, got), tc.want) {
			t.Errorf("bucket %d: %q, want %q", tc.bucket, names(c, got), tc.want)
		}
	}
}
