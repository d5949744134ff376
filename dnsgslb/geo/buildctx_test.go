package geo_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// TestBuildContextEnds: a build whose context has ended returns its error
// and no table, one family at a time or both at once; one whose context
// goes on builds the table Build does.
func TestBuildContextEnds(t *testing.T) {
	db := testDB(t)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, concurrently := range []bool{false, true} {
		tab, err := geo.BuildContext(ended, db, nil, geo.Location{Country: "ZZ"}, concurrently)
		if !errors.Is(err, context.Canceled) || tab != nil {
			t.Errorf("concurrently=%v, context ended: table %v, err %v; want none and %v", concurrently, tab != nil, err, context.Canceled)
		}
		tab, err = geo.BuildContext(context.Background(), db, nil, geo.Location{Country: "ZZ"}, concurrently)
		if err != nil {
			t.Fatalf("concurrently=%v: %v", concurrently, err)
		}
		want := geo.Build(db, nil, geo.Location{Country: "ZZ"})
		a := netip.MustParseAddr("198.18.1.7")
		if tab.Key() != want.Key() || tab.Lookup(a) != want.Lookup(a) {
			t.Errorf("concurrently=%v: BuildContext's table differs from Build's", concurrently)
		}
	}
}
