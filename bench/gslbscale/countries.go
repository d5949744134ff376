package gslbscale

import (
	"slices"
	"strings"
)

// country is one country of the generated database: where its cities
// cluster and how much of the address space it holds.
type country struct {
	iso, name, continent string
	// lat and lon are the centre its cities scatter around, radius (in
	// degrees of latitude) how far; weight is its relative share of
	// networks within its registry.
	lat, lon, weight, radius float64
}

// countries are the ~200 countries the generated locations cluster in, with
// approximate centres (of population, not of area, for large countries)
// and a share of networks loosely like a real City database's.
var countries = []country{
	// North America
	{"US", "United States", "NA", 38.5, -92, 300, 9},
	{"CA", "Canada", "NA", 47, -86, 20, 6},
	{"MX", "Mexico", "NA", 21.5, -100.5, 12, 4},
	{"GT", "Guatemala", "NA", 15, -90.5, 0.8, 1},
	{"BZ", "Belize", "NA", 17.2, -88.5, 0.1, 0.4},
	{"SV", "El Salvador", "NA", 13.7, -89, 0.6, 0.4},
	{"HN", "Honduras", "NA", 14.8, -87, 0.6, 1},
	{"NI", "Nicaragua", "NA", 12.5, -85.8, 0.4, 1},
	{"CR", "Costa Rica", "NA", 9.9, -84.1, 0.8, 0.7},
	{"PA", "Panama", "NA", 8.8, -80, 0.8, 0.8},
	{"CU", "Cuba", "NA", 22, -79, 0.3, 2},
	{"DO", "Dominican Republic", "NA", 18.7, -70.2, 1, 0.8},
	{"HT", "Haiti", "NA", 18.8, -72.5, 0.2, 0.5},
	{"JM", "Jamaica", "NA", 18.1, -77.3, 0.4, 0.4},
	{"PR", "Puerto Rico", "NA", 18.3, -66.3, 1, 0.3},
	{"TT", "Trinidad and Tobago", "NA", 10.5, -61.3, 0.3, 0.2},
	{"BS", "Bahamas", "NA", 25, -77.4, 0.1, 0.8},
	{"BB", "Barbados", "NA", 13.2, -59.5, 0.1, 0.1},
	{"GL", "Greenland", "NA", 64.2, -51.7, 0.05, 3},
	{"BM", "Bermuda", "NA", 32.3, -64.8, 0.05, 0.1},
	{"AG", "Antigua and Barbuda", "NA", 17.1, -61.8, 0.03, 0.1},
	{"LC", "Saint Lucia", "NA", 13.9, -61, 0.03, 0.1},
	{"GD", "Grenada", "NA", 12.1, -61.7, 0.02, 0.1},
	{"VC", "Saint Vincent and the Grenadines", "NA", 13.2, -61.2, 0.02, 0.1},
	{"KN", "Saint Kitts and Nevis", "NA", 17.3, -62.7, 0.02, 0.1},
	{"DM", "Dominica", "NA", 15.4, -61.4, 0.02, 0.1},
	{"KY", "Cayman Islands", "NA", 19.3, -81.3, 0.05, 0.1},
	{"VI", "U.S. Virgin Islands", "NA", 18.3, -64.9, 0.03, 0.1},
	// South America
	{"BR", "Brazil", "SA", -19, -46, 25, 7},
	{"AR", "Argentina", "SA", -34, -62, 6, 5},
	{"CL", "Chile", "SA", -33.5, -71, 4, 5},
	{"CO", "Colombia", "SA", 5, -74.5, 5, 3},
	{"PE", "Peru", "SA", -10, -76, 3, 4},
	{"VE", "Venezuela", "SA", 9, -67, 2, 3},
	{"EC", "Ecuador", "SA", -1.5, -78.5, 2, 1.5},
	{"BO", "Bolivia", "SA", -17, -65, 1, 3},
	{"PY", "Paraguay", "SA", -25, -57, 0.8, 2},
	{"UY", "Uruguay", "SA", -34, -56, 1, 1.2},
	{"GY", "Guyana", "SA", 6, -58.5, 0.1, 1},
	{"SR", "Suriname", "SA", 5.5, -55.5, 0.1, 0.8},
	{"GF", "French Guiana", "SA", 4.9, -52.5, 0.05, 0.6},
	// Europe
	{"DE", "Germany", "EU", 51, 10, 40, 2.5},
	{"GB", "United Kingdom", "EU", 52.5, -1.5, 40, 2.5},
	{"FR", "France", "EU", 47, 2.5, 30, 3},
	{"IT", "Italy", "EU", 43, 12, 20, 3},
	{"ES", "Spain", "EU", 40.2, -3.7, 15, 3},
	{"NL", "Netherlands", "EU", 52.2, 5.3, 15, 0.7},
	{"RU", "Russia", "EU", 55.5, 40, 25, 7},
	{"PL", "Poland", "EU", 52, 19.5, 10, 2.5},
	{"SE", "Sweden", "EU", 59.5, 16, 8, 3},
	{"NO", "Norway", "EU", 60.5, 9, 4, 3},
	{"FI", "Finland", "EU", 61.5, 25, 4, 2.5},
	{"DK", "Denmark", "EU", 56, 10, 4, 1},
	{"BE", "Belgium", "EU", 50.7, 4.5, 5, 0.7},
	{"CH", "Switzerland", "EU", 46.9, 8, 6, 0.7},
	{"AT", "Austria", "EU", 47.8, 14.5, 5, 1.2},
	{"CZ", "Czechia", "EU", 49.8, 15.5, 5, 1.2},
	{"UA", "Ukraine", "EU", 49, 31, 8, 4},
	{"RO", "Romania", "EU", 45.5, 25, 5, 2.5},
	{"HU", "Hungary", "EU", 47.3, 19.3, 3, 1.2},
	{"PT", "Portugal", "EU", 39.8, -8.3, 4, 1.5},
	{"GR", "Greece", "EU", 38.8, 22.5, 3, 2},
	{"IE", "Ireland", "EU", 53.2, -7.5, 3, 1.2},
	{"BG", "Bulgaria", "EU", 42.7, 25, 3, 1.2},
	{"RS", "Serbia", "EU", 44.2, 20.8, 2, 1.2},
	{"HR", "Croatia", "EU", 45.3, 16, 1.5, 1.2},
	{"SK", "Slovakia", "EU", 48.6, 19.5, 1.5, 1},
	{"SI", "Slovenia", "EU", 46.1, 14.8, 1, 0.5},
	{"LT", "Lithuania", "EU", 55, 24, 1, 1},
	{"LV", "Latvia", "EU", 56.9, 24.5, 1, 1},
	{"EE", "Estonia", "EU", 58.9, 25, 1, 1},
	{"BY", "Belarus", "EU", 53.5, 28, 1.5, 2},
	{"MD", "Moldova", "EU", 47.2, 28.6, 0.8, 0.8},
	{"BA", "Bosnia and Herzegovina", "EU", 44, 17.8, 0.8, 0.8},
	{"MK", "North Macedonia", "EU", 41.7, 21.6, 0.5, 0.5},
	{"AL", "Albania", "EU", 41.2, 20, 0.5, 0.6},
	{"ME", "Montenegro", "EU", 42.6, 19.3, 0.2, 0.4},
	{"XK", "Kosovo", "EU", 42.6, 20.9, 0.2, 0.4},
	{"IS", "Iceland", "EU", 64.5, -21, 0.3, 1},
	{"LU", "Luxembourg", "EU", 49.7, 6.1, 0.5, 0.2},
	{"MT", "Malta", "EU", 35.9, 14.4, 0.2, 0.1},
	{"CY", "Cyprus", "EU", 35, 33.2, 0.4, 0.4},
	{"MC", "Monaco", "EU", 43.74, 7.42, 0.05, 0.02},
	{"LI", "Liechtenstein", "EU", 47.15, 9.55, 0.05, 0.05},
	{"AD", "Andorra", "EU", 42.5, 1.55, 0.05, 0.05},
	{"SM", "San Marino", "EU", 43.94, 12.45, 0.03, 0.03},
	{"VA", "Vatican City", "EU", 41.9, 12.45, 0.01, 0.005},
	{"GI", "Gibraltar", "EU", 36.14, -5.35, 0.05, 0.01},
	{"FO", "Faroe Islands", "EU", 62, -6.9, 0.05, 0.2},
	{"IM", "Isle of Man", "EU", 54.2, -4.5, 0.05, 0.1},
	{"JE", "Jersey", "EU", 49.2, -2.1, 0.05, 0.05},
	{"GG", "Guernsey", "EU", 49.45, -2.58, 0.05, 0.05},
	{"AX", "Åland Islands", "EU", 60.2, 20, 0.02, 0.2},
	// Asia
	{"CN", "China", "AS", 32, 114, 60, 7},
	{"JP", "Japan", "AS", 35.5, 137, 35, 3},
	{"KR", "South Korea", "AS", 36.5, 127.5, 20, 1.2},
	{"IN", "India", "AS", 22, 79, 25, 6},
	{"ID", "Indonesia", "AS", -6.5, 108, 8, 4},
	{"TW", "Taiwan", "AS", 24, 121, 8, 0.8},
	{"HK", "Hong Kong", "AS", 22.32, 114.17, 6, 0.1},
	{"SG", "Singapore", "AS", 1.35, 103.82, 5, 0.08},
	{"TH", "Thailand", "AS", 14.5, 100.8, 5, 3},
	{"VN", "Vietnam", "AS", 16, 106.5, 6, 4},
	{"MY", "Malaysia", "AS", 3.8, 102, 4, 2.5},
	{"PH", "Philippines", "AS", 13, 122, 4, 3},
	{"PK", "Pakistan", "AS", 29.5, 71.5, 3, 3},
	{"BD", "Bangladesh", "AS", 23.7, 90.4, 2, 1.2},
	{"TR", "Turkey", "AS", 39.5, 32.5, 8, 3},
	{"IR", "Iran", "AS", 34, 52, 5, 4},
	{"SA", "Saudi Arabia", "AS", 24, 45.5, 3, 4},
	{"AE", "United Arab Emirates", "AS", 24.8, 55, 2, 0.8},
	{"IL", "Israel", "AS", 32, 34.9, 3, 0.6},
	{"IQ", "Iraq", "AS", 33.5, 44, 1, 2},
	{"KZ", "Kazakhstan", "AS", 47, 70, 2, 6},
	{"UZ", "Uzbekistan", "AS", 41, 66, 0.8, 2.5},
	{"JO", "Jordan", "AS", 31.8, 36, 0.6, 0.8},
	{"LB", "Lebanon", "AS", 33.9, 35.7, 0.5, 0.3},
	{"KW", "Kuwait", "AS", 29.3, 47.8, 0.5, 0.3},
	{"QA", "Qatar", "AS", 25.3, 51.3, 0.4, 0.3},
	{"OM", "Oman", "AS", 22, 57, 0.4, 2},
	{"BH", "Bahrain", "AS", 26.1, 50.55, 0.2, 0.1},
	{"SY", "Syria", "AS", 34.5, 37.5, 0.3, 1.5},
	{"YE", "Yemen", "AS", 15, 45, 0.2, 2},
	{"GE", "Georgia", "AS", 42, 44, 0.6, 1},
	{"AM", "Armenia", "AS", 40.2, 44.7, 0.5, 0.5},
	{"AZ", "Azerbaijan", "AS", 40.3, 48.5, 0.5, 0.8},
	{"KG", "Kyrgyzstan", "AS", 41.8, 74.5, 0.3, 1.2},
	{"TJ", "Tajikistan", "AS", 38.8, 69.5, 0.2, 1.2},
	{"TM", "Turkmenistan", "AS", 38.5, 59, 0.1, 2.5},
	{"AF", "Afghanistan", "AS", 34.5, 67.5, 0.2, 2.5},
	{"NP", "Nepal", "AS", 27.8, 85, 0.6, 1.2},
	{"LK", "Sri Lanka", "AS", 7.3, 80.5, 0.6, 0.7},
	{"MM", "Myanmar", "AS", 19, 96, 0.5, 3},
	{"KH", "Cambodia", "AS", 12, 104.9, 0.5, 1.2},
	{"LA", "Laos", "AS", 18, 103, 0.2, 2},
	{"MN", "Mongolia", "AS", 47.9, 106.9, 0.3, 4},
	{"MO", "Macao", "AS", 22.17, 113.55, 0.3, 0.03},
	{"BN", "Brunei", "AS", 4.8, 114.8, 0.1, 0.2},
	{"BT", "Bhutan", "AS", 27.4, 90.4, 0.05, 0.5},
	{"MV", "Maldives", "AS", 4.2, 73.5, 0.05, 0.4},
	{"TL", "Timor-Leste", "AS", -8.7, 125.8, 0.05, 0.4},
	{"KP", "North Korea", "AS", 39.3, 126.5, 0.02, 1},
	{"PS", "Palestine", "AS", 31.9, 35.2, 0.3, 0.2},
	// Oceania
	{"AU", "Australia", "OC", -32, 146, 12, 6},
	{"NZ", "New Zealand", "OC", -39.5, 175, 3, 3},
	{"PG", "Papua New Guinea", "OC", -6.5, 146, 0.2, 3},
	{"FJ", "Fiji", "OC", -17.8, 178.1, 0.1, 0.8},
	{"NC", "New Caledonia", "OC", -21.5, 165.5, 0.1, 0.8},
	{"PF", "French Polynesia", "OC", -17.6, -149.5, 0.05, 0.8},
	{"GU", "Guam", "OC", 13.45, 144.78, 0.1, 0.1},
	{"WS", "Samoa", "OC", -13.8, -172, 0.02, 0.3},
	{"TO", "Tonga", "OC", -21.2, -175.2, 0.02, 0.3},
	{"VU", "Vanuatu", "OC", -16, 167.5, 0.02, 1},
	{"SB", "Solomon Islands", "OC", -9.4, 160, 0.02, 1.5},
	{"FM", "Micronesia", "OC", 6.9, 158.2, 0.02, 1.5},
	{"KI", "Kiribati", "OC", 1.4, 173, 0.01, 2},
	{"MH", "Marshall Islands", "OC", 7.1, 171.2, 0.01, 0.8},
	{"PW", "Palau", "OC", 7.5, 134.6, 0.01, 0.3},
	{"NR", "Nauru", "OC", -0.53, 166.93, 0.01, 0.03},
	{"TV", "Tuvalu", "OC", -8.5, 179.2, 0.01, 0.3},
	{"AS", "American Samoa", "OC", -14.3, -170.7, 0.01, 0.1},
	{"MP", "Northern Mariana Islands", "OC", 15.2, 145.75, 0.01, 0.2},
	{"CK", "Cook Islands", "OC", -21.2, -159.8, 0.01, 0.6},
	// Africa
	{"ZA", "South Africa", "AF", -28, 27, 6, 4},
	{"NG", "Nigeria", "AF", 8, 6, 3, 3},
	{"EG", "Egypt", "AF", 29.5, 31, 4, 2},
	{"KE", "Kenya", "AF", -1, 37, 2, 2},
	{"MA", "Morocco", "AF", 33, -7, 2, 2},
	{"DZ", "Algeria", "AF", 35.5, 3, 1.5, 3},
	{"TN", "Tunisia", "AF", 35.5, 10, 1, 1.2},
	{"GH", "Ghana", "AF", 6.5, -1, 1, 1.2},
	{"ET", "Ethiopia", "AF", 9, 39, 0.5, 3},
	{"TZ", "Tanzania", "AF", -6.5, 36, 0.8, 3},
	{"UG", "Uganda", "AF", 0.8, 32.5, 0.6, 1.2},
	{"CI", "Côte d'Ivoire", "AF", 6.5, -5, 0.6, 1.5},
	{"SN", "Senegal", "AF", 14.5, -16, 0.5, 1.2},
	{"CM", "Cameroon", "AF", 4.5, 11, 0.5, 2},
	{"AO", "Angola", "AF", -10, 15, 0.6, 3},
	{"MZ", "Mozambique", "AF", -20, 34, 0.4, 4},
	{"ZW", "Zimbabwe", "AF", -18.5, 30, 0.4, 2},
	{"ZM", "Zambia", "AF", -14, 28, 0.4, 2.5},
	{"RW", "Rwanda", "AF", -1.95, 30, 0.3, 0.4},
	{"MU", "Mauritius", "AF", -20.2, 57.5, 0.3, 0.2},
	{"SD", "Sudan", "AF", 15, 32, 0.4, 3},
	{"LY", "Libya", "AF", 31, 15, 0.3, 3},
	{"BW", "Botswana", "AF", -23, 25.5, 0.2, 2},
	{"NA", "Namibia", "AF", -22.5, 17, 0.2, 3},
	{"MG", "Madagascar", "AF", -19, 47, 0.3, 3},
	{"ML", "Mali", "AF", 13, -7, 0.2, 3},
	{"BF", "Burkina Faso", "AF", 12.3, -1.5, 0.2, 1.5},
	{"NE", "Niger", "AF", 14, 5, 0.1, 3},
	{"TD", "Chad", "AF", 12.5, 17, 0.05, 3},
	{"BJ", "Benin", "AF", 7, 2.3, 0.2, 1},
	{"TG", "Togo", "AF", 6.8, 1.1, 0.1, 0.8},
	{"GN", "Guinea", "AF", 10, -12, 0.1, 1.5},
	{"SL", "Sierra Leone", "AF", 8.5, -12.5, 0.05, 0.8},
	{"LR", "Liberia", "AF", 6.5, -10, 0.05, 0.8},
	{"GM", "Gambia", "AF", 13.4, -16.3, 0.05, 0.2},
	{"GA", "Gabon", "AF", 0, 10.5, 0.1, 1.5},
	{"CG", "Republic of the Congo", "AF", -4, 15, 0.1, 1.5},
	{"CD", "DR Congo", "AF", -4.5, 18, 0.3, 5},
	{"CF", "Central African Republic", "AF", 5, 19.5, 0.02, 2},
	{"SS", "South Sudan", "AF", 6, 31, 0.02, 2},
	{"SO", "Somalia", "AF", 4, 45.5, 0.1, 3},
	{"DJ", "Djibouti", "AF", 11.6, 43.1, 0.05, 0.3},
	{"ER", "Eritrea", "AF", 15.3, 38.9, 0.02, 1},
	{"MW", "Malawi", "AF", -14, 34, 0.1, 1.5},
	{"LS", "Lesotho", "AF", -29.5, 28, 0.05, 0.5},
	{"SZ", "Eswatini", "AF", -26.4, 31.3, 0.05, 0.3},
	{"GQ", "Equatorial Guinea", "AF", 2, 10, 0.02, 0.5},
	{"CV", "Cabo Verde", "AF", 15.1, -23.6, 0.02, 0.4},
	{"ST", "São Tomé and Príncipe", "AF", 0.3, 6.7, 0.01, 0.1},
	{"SC", "Seychelles", "AF", -4.6, 55.45, 0.05, 0.1},
	{"KM", "Comoros", "AF", -11.7, 43.3, 0.01, 0.2},
	{"MR", "Mauritania", "AF", 19, -12, 0.05, 3},
	{"GW", "Guinea-Bissau", "AF", 11.9, -15.5, 0.01, 0.4},
	{"BI", "Burundi", "AF", -3.4, 29.6, 0.05, 0.4},
	{"RE", "Réunion", "AF", -21.1, 55.5, 0.2, 0.2},
	{"YT", "Mayotte", "AF", -12.8, 45.15, 0.02, 0.1},
	// Antarctica
	{"AQ", "Antarctica", "AN", -77.8, 166.7, 0.01, 5},
}

// continentNames and continentIDs are the GeoNames data of the continents.
var (
	continentNames = map[string]string{
		"AF": "Africa", "AN": "Antarctica", "AS": "Asia", "EU": "Europe",
		"NA": "North America", "OC": "Oceania", "SA": "South America",
	}
	continentIDs = map[string]uint32{
		"AF": 6255146, "AS": 6255147, "EU": 6255148, "NA": 6255149,
		"SA": 6255150, "OC": 6255151, "AN": 6255152,
	}
)

// registry is a regional Internet registry: which continent's addresses it
// hands out, roughly.
type registry int

const (
	arin registry = iota
	ripe
	apnic
	lacnic
	afrinic
	registries
)

// ripeInAsia are the Asian countries served by RIPE NCC; lacnicInNA the
// North American ones served by LACNIC.
var (
	ripeInAsia = "TR IR SA AE IL IQ KZ UZ JO LB KW QA OM BH SY YE GE AM AZ KG TJ TM PS"
	lacnicInNA = "MX GT BZ SV HN NI CR PA CU DO HT"
)

// registryOf is the registry whose address space a country's networks are
// mostly in.
func registryOf(c *country) registry {
	switch c.continent {
	case "AF":
		return afrinic
	case "EU":
		return ripe
	case "SA":
		return lacnic
	case "OC":
		return apnic
	case "AS":
		if slices.Contains(strings.Fields(ripeInAsia), c.iso) {
			return ripe
		}
		return apnic
	case "NA":
		if slices.Contains(strings.Fields(lacnicInNA), c.iso) {
			return lacnic
		}
	}
	return arin
}
