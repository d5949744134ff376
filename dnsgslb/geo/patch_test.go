package geo_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// TestPatchAsBuild: on random databases, a table built with random PoP
// networks, then patched for PoP networks added, removed and given to
// other PoPs, has the leaves, classes and key of the table built at once
// from the new networks; a change of the PoPs' classes is refused.
func TestPatchAsBuild(t *testing.T) {
	def := geo.Location{City: "default"}
	patched, refused := 0, 0
	for seed := range uint64(4) {
		db, err := geo.OpenDB(randomDB(t, 40+seed, bothFamilies))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 11))
		pops := randomPops(rng)
		if seed%2 == 1 {
			pops = pops[:len(pops)-7] // without the PoPs that cover everything
		}
		tab := geo.Build(db, pops, def)
		for step := range 30 {
			next := mutatePops(rng, pops)
			got, ok := geo.Patch(tab, db, next, def)
			want := geo.Build(db, next, def)
			if !ok {
				refused++
				if samePopClasses(tab, want) {
					t.Fatalf("seed %d step %d: Patch refused a change that keeps the PoPs' classes", seed, step)
				}
				tab, pops = want, next
				continue
			}
			patched++
			if err := sameTable(got, want); err != nil {
				t.Fatalf("seed %d step %d: patched table differs from the built one: %v", seed, step, err)
			}
			tab, pops = got, next
		}
	}
	t.Logf("%d patched, %d refused", patched, refused)
	if patched < 60 {
		t.Errorf("%d changes patched, %d refused: want most patched", patched, refused)
	}
}

// TestPatchRefuses: a table read from a file, another database or default
// location, or another PoP is not patched.
func TestPatchRefuses(t *testing.T) {
	db := testDB(t)
	def := geo.Location{City: "default"}
	pops := []geo.PopNetwork{{Prefix: netip.MustParsePrefix("198.18.0.0/16"), Pop: "tyo", Location: geo.Location{City: "Tokyo"}}}
	tab := geo.Build(db, pops, def)
	more := append(slices.Clone(pops), geo.PopNetwork{Prefix: netip.MustParsePrefix("198.19.0.0/24"), Pop: "tyo", Location: geo.Location{City: "Tokyo"}})
	if _, ok := geo.Patch(tab, db, more, def); !ok {
		t.Error("a network added to a PoP: not patched")
	}
	for name, tt := range map[string]struct {
		db   *geo.DB
		pops []geo.PopNetwork
		def  geo.Location
	}{
		"another default": {db, more, geo.Location{City: "elsewhere"}},
		"no database":     {nil, more, def},
		"another PoP":     {db, append(slices.Clone(more), geo.PopNetwork{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Pop: "lon"}), def},
		"a PoP moved":     {db, []geo.PopNetwork{{Prefix: pops[0].Prefix, Pop: "tyo", Location: geo.Location{City: "Osaka"}}}, def},
	} {
		if _, ok := geo.Patch(tab, tt.db, tt.pops, tt.def); ok {
			t.Errorf("%s: patched", name)
		}
	}
	path := t.TempDir() + "/table"
	if err := tab.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	read, err := geo.ReadTableFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := geo.Patch(read, db, more, def); ok {
		t.Error("a table read from a file: patched")
	}
	if read.Adopt(db.ID(), more, def) {
		t.Error("Adopt took PoP networks the table was not built from")
	}
	if !read.Adopt(db.ID(), pops, def) {
		t.Fatal("Adopt refused what the table was built from")
	}
	got, ok := geo.Patch(read, db, more, def)
	if !ok {
		t.Fatal("a table read from a file and adopted: not patched")
	}
	if err := sameTable(got, geo.Build(db, more, def)); err != nil {
		t.Errorf("adopted table, patched: %v", err)
	}
}

// mutatePops changes a few of the PoP networks: one removed, one added to
// a PoP already there (sometimes inside another network, sometimes over
// several), one given to another PoP.
func mutatePops(r *rand.Rand, pops []geo.PopNetwork) []geo.PopNetwork {
	out := slices.Clone(pops)
	for range 1 + r.IntN(3) {
		switch r.IntN(3) {
		case 0:
			if len(out) > 1 {
				i := r.IntN(len(out))
				out = slices.Delete(out, i, i+1)
			}
		case 1:
			src := out[r.IntN(len(out))]
			var p netip.Prefix
			if r.IntN(2) == 0 {
				// Inside, beside or over a network there: near it.
				base := src.Prefix.Masked()
				bits := min(max(base.Bits()+r.IntN(9)-3, 0), base.Addr().BitLen())
				p = netip.PrefixFrom(base.Addr(), bits).Masked()
				if r.IntN(2) == 0 {
					p = netip.PrefixFrom(lastAddr(base).Next(), bits).Masked()
					if !p.Addr().IsValid() {
						p = base
					}
				}
			} else {
				a := netip.AddrFrom4([4]byte{byte(1 + r.IntN(4)), byte(r.Uint32()), byte(r.Uint32()), 0})
				p = netip.PrefixFrom(a, 12+r.IntN(13)).Masked()
			}
			owner := out[r.IntN(len(out))]
			out = append(out, geo.PopNetwork{Prefix: p, Pop: owner.Pop, Location: owner.Location})
		case 2:
			i, owner := r.IntN(len(out)), out[r.IntN(len(out))]
			out[i].Pop, out[i].Location = owner.Pop, owner.Location
		}
	}
	return out
}

// samePopClasses says whether two tables have the same classes.
func samePopClasses(a, b *geo.Table) bool { return slices.Equal(a.Classes(), b.Classes()) }

// sameTable compares two tables leaf by leaf.
func sameTable(a, b *geo.Table) error {
	if a.Key() != b.Key() {
		return fmt.Errorf("key %s, want %s", a.Key(), b.Key())
	}
	if !slices.Equal(a.Classes(), b.Classes()) {
		return fmt.Errorf("classes differ")
	}
	for _, v6 := range []bool{false, true} {
		if na, nb := a.Leaves(v6), b.Leaves(v6); na != nb {
			for i := range min(na, nb) {
				pa, pb := a.Prefix(geo.Leaf{V6: v6, Index: i}), b.Prefix(geo.Leaf{V6: v6, Index: i})
				if pa != pb {
					return fmt.Errorf("v6 %t: %d leaves, want %d; leaf %d is %s, want %s", v6, na, nb, i, pa, pb)
				}
			}
			return fmt.Errorf("v6 %t: %d leaves, want %d", v6, na, nb)
		}
		for i := range a.Leaves(v6) {
			pa, pb := a.Prefix(geo.Leaf{V6: v6, Index: i}), b.Prefix(geo.Leaf{V6: v6, Index: i})
			ca, cb := a.Lookup(pa.Addr()).Class, b.Lookup(pb.Addr()).Class
			if pa != pb || ca != cb {
				return fmt.Errorf("leaf %d: %s class %d, want %s class %d", i, pa, ca, pb, cb)
			}
		}
	}
	return nil
}
