package geo_test

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

func scatteredTable(t *testing.T) (*geo.Table, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, geotest.Scattered(3000, 200)); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	pops := []geo.PopNetwork{
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Pop: "lab", Location: geo.Location{City: "lab", Latitude: 1, Longitude: 2}},
		{Prefix: netip.MustParsePrefix("2001:db8:ffff::/48"), Pop: "lab", Location: geo.Location{City: "lab", Latitude: 1, Longitude: 2}},
	}
	return geo.BuildConcurrently(db, pops, geo.Location{Country: "ZZ"}), path
}

// TestTableFileRoundTrip checks that a table read back from its file
// locates every address as the table written did.
func TestTableFileRoundTrip(t *testing.T) {
	tab, _ := scatteredTable(t)
	path := filepath.Join(t.TempDir(), "table")
	if err := tab.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := geo.ReadTableFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key() != tab.Key() || len(got.Classes()) != len(tab.Classes()) {
		t.Fatalf("read key %s with %d classes, wrote %s with %d", got.Key(), len(got.Classes()), tab.Key(), len(tab.Classes()))
	}
	if got.DBID() == "" || got.DBID() != tab.DBID() {
		t.Fatalf("read the database ID %q, wrote %q", got.DBID(), tab.DBID())
	}
	for _, v6 := range []bool{false, true} {
		if got.Leaves(v6) != tab.Leaves(v6) {
			t.Fatalf("v6=%v: read %d leaves, wrote %d", v6, got.Leaves(v6), tab.Leaves(v6))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var a netip.Addr
		if rng.IntN(2) == 0 {
			a = netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		} else {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			b[0], b[1] = 0x20, 0x01
			a = netip.AddrFrom16(b)
		}
		want, have := tab.Lookup(a), got.Lookup(a)
		if want != have || tab.Classes()[want.Class] != got.Classes()[have.Class] || tab.Prefix(want) != got.Prefix(have) {
			t.Fatalf("%s: read table gives %+v %+v, written %+v %+v", a, have, got.Classes()[have.Class], want, tab.Classes()[want.Class])
		}
	}
}

// TestTableFileDamaged checks that a cut or altered file is refused, not
// read as a wrong table.
func TestTableFileDamaged(t *testing.T) {
	tab, _ := scatteredTable(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "table")
	if err := tab.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x40
	for name, b := range map[string][]byte{
		"cut short":    good[:len(good)/3],
		"byte flipped": flipped,
		"empty":        nil,
		"other":        []byte("not a table at all, just text\n"),
	} {
		bad := filepath.Join(dir, "bad")
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := geo.ReadTableFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: err = %v, want an error naming %s", name, err, bad)
		}
	}
}

// TestTableKey checks that the key a server can compute before reading the
// database is the key of the table built from it, and that it changes with
// what the table is built from.
func TestTableKey(t *testing.T) {
	tab, path := scatteredTable(t)
	id, err := geo.Identify(path)
	if err != nil {
		t.Fatal(err)
	}
	pops := []geo.PopNetwork{
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Pop: "lab", Location: geo.Location{City: "lab", Latitude: 1, Longitude: 2}},
		{Prefix: netip.MustParsePrefix("2001:db8:ffff::/48"), Pop: "lab", Location: geo.Location{City: "lab", Latitude: 1, Longitude: 2}},
	}
	def := geo.Location{Country: "ZZ"}
	if k := geo.TableKey(id, pops, def); k != tab.Key() {
		t.Fatalf("TableKey from Identify = %s, table built has %s", k, tab.Key())
	}
	moved := append([]geo.PopNetwork(nil), pops...)
	moved[0].Prefix = netip.MustParsePrefix("10.0.0.0/9")
	for name, k := range map[string]string{
		"other database":  geo.TableKey("other", pops, def),
		"a network moved": geo.TableKey(id, moved, def),
		"other default":   geo.TableKey(id, pops, geo.Location{Country: "JP"}),
	} {
		if k == tab.Key() {
			t.Errorf("%s: same key", name)
		}
	}
}
