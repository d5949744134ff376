package geo

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestTableKeyNamesBuild: a table file persisted by a Build before
// buildVersion 2, which made other tables of the same inputs, has a key
// no Build makes now, so it is built again rather than mapped.
func TestTableKeyNamesBuild(t *testing.T) {
	def := Location{Latitude: 1, Longitude: 2}
	pops := []PopNetwork{{Prefix: netip.MustParsePrefix("::ffff:198.18.0.0/112"), Pop: "p"}}
	before := fmt.Sprintf("db=%s default=%+v", "db1", def)
	for _, p := range pops {
		before += fmt.Sprintf(" %s=%s@%+v", p.Prefix, p.Pop, p.Location)
	}
	if TableKey("db1", pops, def) == digest(before) {
		t.Errorf("TableKey is the key of tables built before buildVersion 2")
	}
}
