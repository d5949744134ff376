package index

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestResidencyContinentOrCountry serves two records alike but for a
// residency rule naming the code AS, one as a continent (Asia), one as a
// country (American Samoa): a client in Tokyo is bound by the first only.
// Records of equal ranking inputs share their ranking, and a rule written
// the same way for both must not make them share it; nor may an update
// that moves the code from continents to countries keep the old ranking.
func TestResidencyContinentOrCountry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	tokyo := netip.MustParsePrefix(gslbtest.Tokyo)
	rule := func(rec *v1.GslbRecord, continent bool) {
		ru := &v1.ResidencyRule{Allowed: []string{"eu-west"}}
		if continent {
			ru.Continents = []string{"AS"}
		} else {
			ru.Countries = []string{"AS"}
		}
		rec.Spec.Residency = []*v1.ResidencyRule{ru}
	}
	snap := gslbtest.Snapshot()
	asia := proto.Clone(snap.Records[0]).(*v1.GslbRecord)
	asia.Metadata.Name, asia.Spec.Name = "asia", "asia"
	rule(asia, true)
	samoa := proto.Clone(asia).(*v1.GslbRecord)
	samoa.Metadata.Name, samoa.Spec.Name = "samoa", "samoa"
	rule(samoa, false)
	snap.Records = append(snap.Records, asia, samoa)
	check := func(ix *Index, name, want string) {
		t.Helper()
		ex := ix.Explain(name+"."+gslbtest.Zone, dns.TypeA, tokyo)
		if len(ex.Answer) != 1 || !strings.HasSuffix(ex.Answer[0], "\t"+want) {
			t.Errorf("%s from Tokyo: %q, want %s", name, ex.Answer, want)
		}
	}
	ix, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	check(ix, "asia", gslbtest.EUWest4)
	check(ix, "samoa", gslbtest.APNortheast4)

	// The rule of asia moves to the country: Tokyo is no longer bound.
	rule(asia, false)
	snap.Revision++
	next, err := Compile(snap, Options{GeoIP: db, Previous: ix})
	if err != nil {
		t.Fatal(err)
	}
	check(next, "asia", gslbtest.APNortheast4)
}
