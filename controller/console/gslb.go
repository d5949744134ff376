package console

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"
)

// region is a place the GSLB map asks for: a continent (drawn as its
// outline) or a country (drawn as a dot), at a representative city.
type region struct {
	ID    string       `json:"id"`
	Label string       `json:"label"`
	Kind  string       `json:"kind"` // continent or country
	Loc   geo.Location `json:"-"`
}

func place(id, label, kind string, lat, lon float64, cc, cont, city string) region {
	return region{ID: id, Label: label, Kind: kind, Loc: geo.Location{Latitude: lat, Longitude: lon, Country: cc, Continent: cont, City: city}}
}

// regions are the continents and a few countries the GSLB map shows.
var regions = []region{
	place("EU", "Europe (Frankfurt)", "continent", 50.11, 8.68, "DE", "EU", "Frankfurt"),
	place("NA", "North America (Chicago)", "continent", 41.88, -87.63, "US", "NA", "Chicago"),
	place("SA", "South America (São Paulo)", "continent", -23.55, -46.63, "BR", "SA", "São Paulo"),
	place("AS", "Asia (Singapore)", "continent", 1.35, 103.82, "SG", "AS", "Singapore"),
	place("OC", "Oceania (Sydney)", "continent", -33.87, 151.21, "AU", "OC", "Sydney"),
	place("AF", "Africa (Lagos)", "continent", 6.52, 3.38, "NG", "AF", "Lagos"),
	place("JP", "Japan (Tokyo)", "country", 35.68, 139.69, "JP", "AS", "Tokyo"),
	place("GB", "United Kingdom (London)", "country", 51.51, -0.13, "GB", "EU", "London"),
	place("IN", "India (Mumbai)", "country", 19.08, 72.88, "IN", "AS", "Mumbai"),
	place("US-W", "United States West (Seattle)", "country", 47.61, -122.33, "US", "NA", "Seattle"),
	place("ZA", "South Africa (Johannesburg)", "country", -26.2, 28.05, "ZA", "AF", "Johannesburg"),
	place("RU", "Russia (Novosibirsk)", "country", 55.03, 82.92, "RU", "AS", "Novosibirsk"),
}

// mapClient is the client address the map asks with: outside every PoP's
// cache networks, so that the client is placed at the region's location.
var mapClient = netip.MustParsePrefix("100.64.0.0/24")

// regionAnswer is what one region gets for a record now.
type regionAnswer struct {
	region
	Lat      float64  `json:"lat"`
	Lon      float64  `json:"lon"`
	Rcode    string   `json:"rcode"`
	Answer   []string `json:"answer"`
	Chosen   []string `json:"chosen"`
	Located  string   `json:"located"`
	Excluded []string `json:"excluded"`
}

// gslbMap computes, per region, what the DNS server's own code answers for
// a record; results are kept per snapshot and record.
type gslbMap struct {
	mu    sync.Mutex // guards key and cache
	key   string
	cache map[string][]regionAnswer
}

func snapshotKey(snap *v1.GslbSnapshot) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(snap)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func (g *gslbMap) answers(snap *v1.GslbSnapshot, name, qtype string) ([]regionAnswer, error) {
	t, ok := dns.StringToType[strings.ToUpper(qtype)]
	if !ok {
		return nil, fmt.Errorf("type %q: want A or AAAA", qtype)
	}
	key := snapshotKey(snap)
	ck := dns.Fqdn(name) + "/" + qtype
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.key != key {
		g.key, g.cache = key, map[string][]regionAnswer{}
	}
	if a, ok := g.cache[ck]; ok {
		return a, nil
	}
	var out []regionAnswer
	var prev *index.Index
	for _, r := range regions {
		ix, err := index.Compile(snap, index.Options{Default: r.Loc, Previous: prev})
		if err != nil {
			return nil, fmt.Errorf("GSLB snapshot: %w", err)
		}
		prev = ix
		ex := ix.Explain(dns.Fqdn(name), t, mapClient)
		ra := regionAnswer{region: r, Lat: r.Loc.Latitude, Lon: r.Loc.Longitude, Rcode: ex.Rcode, Answer: ex.Answer, Located: ex.Located.Source}
		for _, c := range ex.Candidates {
			if c.Answered {
				ra.Chosen = append(ra.Chosen, c.Name)
			} else if c.Excluded != "" {
				ra.Excluded = append(ra.Excluded, c.Name+": "+c.Excluded)
			}
		}
		slices.Sort(ra.Chosen)
		out = append(out, ra)
	}
	g.cache[ck] = out
	return out, nil
}

// explainRequest is the explain form: what `anyctl explain` takes.
type explainRequest struct {
	Name     string
	Type     string
	Client   string
	Location string // LAT,LON[,COUNTRY[,CONTINENT]], the DNS server's --default-location
}

func explain(snap *v1.GslbSnapshot, req explainRequest) (index.Explanation, error) {
	name := dns.Fqdn(strings.TrimSpace(req.Name))
	if _, ok := dns.IsDomainName(name); !ok || name == "." {
		return index.Explanation{}, fmt.Errorf("name %q: not a domain name", req.Name)
	}
	if req.Type == "" {
		req.Type = "A"
	}
	t, ok := dns.StringToType[strings.ToUpper(req.Type)]
	if !ok {
		return index.Explanation{}, fmt.Errorf("type %q: want A or AAAA", req.Type)
	}
	client, err := parseClient(req.Client)
	if err != nil {
		return index.Explanation{}, err
	}
	loc, err := parseLocation(req.Location)
	if err != nil {
		return index.Explanation{}, err
	}
	ix, err := index.Compile(snap, index.Options{Default: loc})
	if err != nil {
		return index.Explanation{}, fmt.Errorf("GSLB snapshot revision %d: %w", snap.GetRevision(), err)
	}
	return ix.Explain(name, t, client), nil
}

// parseClient takes IP/LEN (host bits cleared) or IP, as anyctl explain.
func parseClient(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("client %q: want an IP address or IP/LEN", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("client %q: want an IP address or IP/LEN (not /0)", s)
	}
	return p.Masked(), nil
}

// parseLocation takes LAT,LON[,COUNTRY[,CONTINENT]]; empty is no location.
func parseLocation(s string) (geo.Location, error) {
	var loc geo.Location
	if strings.TrimSpace(s) == "" {
		return loc, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 4 {
		return loc, fmt.Errorf("location %q: want LAT,LON[,COUNTRY[,CONTINENT]]", s)
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	lat, err := strconv.ParseFloat(parts[0], 64)
	if err != nil || lat < -90 || lat > 90 {
		return loc, fmt.Errorf("location %q: latitude %q: want a number from -90 to 90", s, parts[0])
	}
	lon, err := strconv.ParseFloat(parts[1], 64)
	if err != nil || lon < -180 || lon > 180 {
		return loc, fmt.Errorf("location %q: longitude %q: want a number from -180 to 180", s, parts[1])
	}
	loc.Latitude, loc.Longitude = lat, lon
	if len(parts) > 2 {
		loc.Country = strings.ToUpper(parts[2])
	}
	if len(parts) > 3 {
		loc.Continent = strings.ToUpper(parts[3])
	}
	return loc, nil
}
