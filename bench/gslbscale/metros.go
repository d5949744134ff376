package gslbscale

// metro is a city data centres are in.
type metro struct {
	name, country, continent, region, city string
	lat, lon                               float64
}

// metros are where origins and PoPs are placed, ordered so that taking them
// in turn covers every continent early: origin i is at metros[i%len].
var metros = interleave([][]metro{
	{ // North America
		{"ashburn", "US", "NA", "amer", "Ashburn", 39.04, -77.49},
		{"sanjose", "US", "NA", "amer", "San Jose", 37.34, -121.89},
		{"dallas", "US", "NA", "amer", "Dallas", 32.78, -96.80},
		{"chicago", "US", "NA", "amer", "Chicago", 41.88, -87.63},
		{"seattle", "US", "NA", "amer", "Seattle", 47.61, -122.33},
		{"losangeles", "US", "NA", "amer", "Los Angeles", 34.05, -118.24},
		{"miami", "US", "NA", "amer", "Miami", 25.76, -80.19},
		{"newyork", "US", "NA", "amer", "New York", 40.71, -74.01},
		{"toronto", "CA", "NA", "amer", "Toronto", 43.65, -79.38},
		{"montreal", "CA", "NA", "amer", "Montreal", 45.50, -73.57},
		{"mexico", "MX", "NA", "amer", "Mexico City", 19.43, -99.13},
	},
	{ // Europe
		{"frankfurt", "DE", "EU", "emea", "Frankfurt", 50.11, 8.68},
		{"london", "GB", "EU", "emea", "London", 51.51, -0.13},
		{"amsterdam", "NL", "EU", "emea", "Amsterdam", 52.37, 4.90},
		{"paris", "FR", "EU", "emea", "Paris", 48.86, 2.35},
		{"dublin", "IE", "EU", "emea", "Dublin", 53.35, -6.26},
		{"stockholm", "SE", "EU", "emea", "Stockholm", 59.33, 18.07},
		{"madrid", "ES", "EU", "emea", "Madrid", 40.42, -3.70},
		{"milan", "IT", "EU", "emea", "Milan", 45.46, 9.19},
		{"warsaw", "PL", "EU", "emea", "Warsaw", 52.23, 21.01},
		{"zurich", "CH", "EU", "emea", "Zurich", 47.38, 8.54},
		{"helsinki", "FI", "EU", "emea", "Helsinki", 60.17, 24.94},
	},
	{ // Asia
		{"tokyo", "JP", "AS", "apac", "Tokyo", 35.68, 139.69},
		{"singapore", "SG", "AS", "apac", "Singapore", 1.35, 103.82},
		{"mumbai", "IN", "AS", "apac", "Mumbai", 19.08, 72.88},
		{"seoul", "KR", "AS", "apac", "Seoul", 37.57, 126.98},
		{"hongkong", "HK", "AS", "apac", "Hong Kong", 22.32, 114.17},
		{"osaka", "JP", "AS", "apac", "Osaka", 34.69, 135.50},
		{"taipei", "TW", "AS", "apac", "Taipei", 25.03, 121.57},
		{"jakarta", "ID", "AS", "apac", "Jakarta", -6.21, 106.85},
		{"chennai", "IN", "AS", "apac", "Chennai", 13.08, 80.27},
		{"dubai", "AE", "AS", "emea", "Dubai", 25.20, 55.27},
		{"telaviv", "IL", "AS", "emea", "Tel Aviv", 32.09, 34.78},
		{"bangkok", "TH", "AS", "apac", "Bangkok", 13.76, 100.50},
	},
	{ // South America
		{"saopaulo", "BR", "SA", "amer", "São Paulo", -23.55, -46.63},
		{"santiago", "CL", "SA", "amer", "Santiago", -33.45, -70.67},
		{"bogota", "CO", "SA", "amer", "Bogotá", 4.71, -74.07},
		{"buenosaires", "AR", "SA", "amer", "Buenos Aires", -34.60, -58.38},
		{"lima", "PE", "SA", "amer", "Lima", -12.05, -77.04},
	},
	{ // Oceania
		{"sydney", "AU", "OC", "apac", "Sydney", -33.87, 151.21},
		{"melbourne", "AU", "OC", "apac", "Melbourne", -37.81, 144.96},
		{"auckland", "NZ", "OC", "apac", "Auckland", -36.85, 174.76},
	},
	{ // Africa
		{"johannesburg", "ZA", "AF", "emea", "Johannesburg", -26.20, 28.05},
		{"lagos", "NG", "AF", "emea", "Lagos", 6.52, 3.38},
		{"nairobi", "KE", "AF", "emea", "Nairobi", -1.29, 36.82},
		{"capetown", "ZA", "AF", "emea", "Cape Town", -33.92, 18.42},
		{"cairo", "EG", "AF", "emea", "Cairo", 30.04, 31.24},
	},
})

// interleave takes one metro of each group in turn.
func interleave(groups [][]metro) []metro {
	var out []metro
	for i := 0; ; i++ {
		n := len(out)
		for _, g := range groups {
			if i < len(g) {
				out = append(out, g[i])
			}
		}
		if len(out) == n {
			return out
		}
	}
}
