package validation

import (
	"fmt"
	"math"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// IsCountry reports whether code is an assigned ISO 3166-1 alpha-2 code in
// upper case ("JP"), or a user-assigned code GeoIP databases use ("XK").
func IsCountry(code string) bool {
	_, ok := countryContinents(code)
	return ok
}

// IsContinent reports whether code is one of AF AN AS EU NA OC SA.
func IsContinent(code string) bool {
	_, ok := continents[code]
	return ok
}

func countryContinents(code string) (string, bool) {
	if c, ok := countries[code]; ok {
		return c, true
	}
	c, ok := userAssigned[code]
	return c, ok
}

// countryProblem describes what is wrong with a country code, "" if nothing.
func countryProblem(code string) string {
	if IsCountry(code) {
		return ""
	}
	return unknownMsg("country code", code, `: want an ISO 3166-1 alpha-2 code such as "JP"`, IsCountry)
}

// continentProblem describes what is wrong with a continent code.
func continentProblem(code string) string {
	if IsContinent(code) {
		return ""
	}
	return unknownMsg("continent code", code, ": want one of AF AN AS EU NA OC SA", IsContinent)
}

// checkLocation checks a Location at path; a missing one is refused.
func checkLocation(r report, path string, l *v1.Location) {
	if l == nil {
		r.add(path, "", "required")
		return
	}
	if lat := l.GetLatitude(); math.IsNaN(lat) || lat < -90 || lat > 90 {
		r.add(path+".latitude", fmt.Sprint(lat), "outside -90..90")
	}
	if lon := l.GetLongitude(); math.IsNaN(lon) || lon < -180 || lon > 180 {
		r.add(path+".longitude", fmt.Sprint(lon), "outside -180..180")
	}
	country, continent := l.GetCountry(), l.GetContinent()
	countryOK, continentOK := false, false
	switch {
	case country == "":
		r.add(path+".country", "", "required: an ISO 3166-1 alpha-2 code such as \"JP\"")
	case countryProblem(country) != "":
		r.add(path+".country", country, countryProblem(country))
	default:
		countryOK = true
	}
	switch {
	case continent == "":
		r.add(path+".continent", "", "required: one of AF AN AS EU NA OC SA")
	case continentProblem(continent) != "":
		r.add(path+".continent", continent, continentProblem(continent))
	default:
		continentOK = true
	}
	if countryOK && continentOK {
		cs, _ := countryContinents(country)
		if !strings.Contains(cs, continent) {
			r.addf(path+".continent", continent, "country %q is in %s, not %s", country, strings.ReplaceAll(cs, " ", " or "), continent)
		}
	}
}
