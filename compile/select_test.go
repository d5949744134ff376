package compile

import (
	"slices"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func TestSelectPops(t *testing.T) {
	s := fleetState()
	tests := []struct {
		name string
		sel  *v1.PopSelector
		want []string
	}{
		{"nil selects nothing", nil, nil},
		{"empty selects nothing", &v1.PopSelector{}, nil},
		{"all", &v1.PopSelector{All: true}, []string{"ams", "fra", "iad", "lhr", "nrt", "sin", "sjc"}},
		{"all wins over names", &v1.PopSelector{All: true, Names: []string{"ams"}}, []string{"ams", "fra", "iad", "lhr", "nrt", "sin", "sjc"}},
		{"names sorted", &v1.PopSelector{Names: []string{"sjc", "ams"}}, []string{"ams", "sjc"}},
		{"unknown name picks nothing", &v1.PopSelector{Names: []string{"gone", "iad"}}, []string{"iad"}},
		{"duplicate names once", &v1.PopSelector{Names: []string{"iad", "iad"}}, []string{"iad"}},
		{"one region", &v1.PopSelector{Regions: []string{"apac"}}, []string{"nrt", "sin"}},
		{"two regions", &v1.PopSelector{Regions: []string{"nam", "apac"}}, []string{"iad", "nrt", "sin", "sjc"}},
		{"unknown region", &v1.PopSelector{Regions: []string{"latam"}}, nil},
		{"region match is exact", &v1.PopSelector{Regions: []string{"APAC"}}, nil},
		{"names and regions union", &v1.PopSelector{Names: []string{"ams", "nrt"}, Regions: []string{"apac"}}, []string{"ams", "nrt", "sin"}},
		{"maintenance PoP still selected", &v1.PopSelector{Names: []string{"lhr"}}, []string{"lhr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SelectPops(s, tt.sel); !slices.Equal(got, tt.want) {
				t.Errorf("SelectPops(%v) = %q, want %q", tt.sel, got, tt.want)
			}
		})
	}
}

func TestSelectPopsRegionlessPop(t *testing.T) {
	s := fleetState()
	s.Pops["sjc"].Spec.Location.Region = ""
	if got := SelectPops(s, &v1.PopSelector{Regions: []string{""}}); len(got) != 0 {
		t.Errorf("empty region selected %q; a PoP without a region is in no region", got)
	}
}
