package validation

import (
	"strings"
	"testing"
)

func TestCountryTable(t *testing.T) {
	// ISO 3166-1 assigns 249 alpha-2 codes.
	if len(countries) != 249 {
		t.Errorf("country table has %d codes, want 249", len(countries))
	}
	for code, cs := range countries {
		if len(code) != 2 || strings.ToUpper(code) != code {
			t.Errorf("country code %q is not two upper-case letters", code)
		}
		for _, c := range strings.Fields(cs) {
			if !IsContinent(c) {
				t.Errorf("country %q: continent %q is not a continent code", code, c)
			}
		}
	}
	for code := range userAssigned {
		if _, clash := countries[code]; clash {
			t.Errorf("user-assigned code %q is also in the assigned table", code)
		}
	}
}

func TestIsCountry(t *testing.T) {
	cases := []struct {
		code string
		want bool
	}{
		{"JP", true}, {"GB", true}, {"SS", true}, {"XK", true}, {"AQ", true},
		{"UK", false}, {"EU", false}, {"jp", false}, {"XX", false}, {"", false}, {"JPN", false},
	}
	for _, tc := range cases {
		if got := IsCountry(tc.code); got != tc.want {
			t.Errorf("IsCountry(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestCountryContinentAcceptsBothSidesOfABorder(t *testing.T) {
	f := newFixture()
	f.london.Spec.Location.Country, f.london.Spec.Location.Continent = "TR", "AS"
	f.tokyo.Spec.Location.Country, f.tokyo.Spec.Location.Continent = "RU", "AS"
	if err := CheckApply(wrap(f.london, f.tokyo), newFixture().state(), testOpts); err != nil {
		t.Errorf("transcontinental countries refused: %v", err)
	}
	f.tokyo.Spec.Location.Continent = "NA"
	got := errString(CheckApply(wrap(f.tokyo), newFixture().state(), testOpts))
	if want := `Pop "tokyo": spec.location.continent "NA": country "RU" is in EU or AS, not NA`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
