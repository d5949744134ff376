package geo_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"
)

// cityOf is the part of a record the differential tests compare: each
// record of randomDB has a city of its own.
type cityOf struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
}

// dbKind says what randomDB writes: both families in an IPv6 tree, IPv4
// aliased as MaxMind does; IPv4 alone in an IPv4 tree; IPv6 networks
// alone in an IPv6 tree; or no networks at all.
type dbKind int

const (
	bothFamilies dbKind = iota
	ipv4Tree
	ipv6Only
	noNetworks
)

// randomDB writes a City database of random, overlapping networks, some of
// their records without coordinates or country, and returns its path.
// Both families get networks at the edges of the address space.
func randomDB(t *testing.T, seed uint64, kind dbKind) string {
	t.Helper()
	opts := mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28, IncludeReservedNetworks: true}
	if kind == ipv4Tree {
		opts.IPVersion = 4
	}
	tree, err := mmdbwriter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	var nets []netip.Prefix
	if kind == bothFamilies {
		for _, s := range []string{"::/128", "::255.255.255.255/128", "::1.0.0.0/104", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "2400::/128"} {
			nets = append(nets, netip.MustParsePrefix(s))
		}
	}
	for range 3000 {
		if kind == noNetworks {
			break
		}
		var a [16]byte
		var bits int
		if kind != ipv6Only && (kind == ipv4Tree || r.IntN(2) == 0) {
			// Keep IPv4 networks in a few /8s so that they neighbour.
			a[12], a[13], a[14], a[15] = byte(1+r.IntN(4)), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())
			bits = 96 + 8 + r.IntN(25)
		} else {
			a[0], a[1] = 0x24, byte(r.IntN(4))
			for j := 2; j < 16; j++ {
				a[j] = byte(r.Uint32())
			}
			bits = 16 + r.IntN(113)
		}
		nets = append(nets, netip.PrefixFrom(netip.AddrFrom16(a), bits).Masked())
	}
	for i, p := range nets {
		rec := mmdbtype.Map{
			"city":      mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(fmt.Sprint("city", i))}},
			"continent": mmdbtype.Map{"code": mmdbtype.String([]string{"EU", "AS", "NA"}[r.IntN(3)])},
		}
		if r.IntN(4) != 0 {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(fmt.Sprint("C", r.IntN(50)))}
		}
		if r.IntN(4) != 0 {
			rec["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(r.Float64()*180 - 90), "longitude": mmdbtype.Float64(r.Float64()*360 - 180)}
		}
		n := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 128)}
		if kind == ipv4Tree {
			b := p.Addr().As16()
			n = &net.IPNet{IP: b[12:], Mask: net.CIDRMask(p.Bits()-96, 32)}
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "random.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// mmdbCity is the city the database answers for a, "" for none.
func mmdbCity(t *testing.T, r *maxminddb.Reader, a netip.Addr) string {
	t.Helper()
	var rec cityOf
	if err := r.Lookup(a).Decode(&rec); err != nil {
		t.Fatalf("mmdb lookup of %s: %v", a, err)
	}
	return rec.City.Names["en"]
}

// TestLookupAsMMDB looks up addresses in and around every network of
// random databases, and random ones, in the table and in the database
// itself: both name the same place, the table's default where the
// database has none.
func TestLookupAsMMDB(t *testing.T) {
	for seed, kind := range []dbKind{bothFamilies, bothFamilies, ipv4Tree, ipv6Only, noNetworks} {
		seed := uint64(seed)
		path := randomDB(t, seed, kind)
		tab, r := tableAndReader(t, path)
		var addrs []netip.Addr
		for res := range r.Networks() {
			p := res.Prefix()
			last := lastAddr(p)
			addrs = append(addrs, p.Addr(), p.Addr().Prev(), last, last.Next())
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		for range 20000 {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			b[0] = 0x24
			addrs = append(addrs, netip.AddrFrom16(b), netip.AddrFrom4([4]byte(b[12:])))
		}
		for _, a := range addrs {
			if !a.IsValid() {
				continue
			}
			if kind == ipv4Tree && a.Is6() {
				continue // the database answers IPv6 addresses with an error
			}
			want := mmdbCity(t, r, a)
			if want == "" {
				want = "default"
			}
			if got := tab.Classes()[tab.Lookup(a).Class].Location.City; got != want {
				t.Fatalf("database %d: %s is in %q, the database says %q", seed, a, got, want)
			}
		}
	}
}

// TestLeavesWithinOneRecord checks that every leaf of the table from a
// random database lies in networks that all name the leaf's place: a
// leaf is what an answer's ECS scope starts from.
func TestLeavesWithinOneRecord(t *testing.T) {
	path := randomDB(t, 11, bothFamilies)
	tab, r := tableAndReader(t, path)
	for _, v6 := range []bool{false, true} {
		for i := range tab.Leaves(v6) {
			l := geo.Leaf{V6: v6, Index: i}
			p := tab.Prefix(l)
			l = tab.Lookup(p.Addr())
			want := tab.Classes()[l.Class].Location.City
			for res := range r.NetworksWithin(p, maxminddb.IncludeNetworksWithoutData()) {
				var rec cityOf
				if err := res.Decode(&rec); err != nil {
					t.Fatal(err)
				}
				if v6 && res.Prefix().Addr().Is4() {
					continue // the IPv4 subtree (see ipv4Subtree)
				}
				got := rec.City.Names["en"]
				if !res.Found() {
					got = "default"
				}
				if got != want {
					t.Fatalf("leaf %s names %q, but the database has %q at %s", p, want, got, res.Prefix())
				}
			}
		}
	}
}

// ipv4Subtree is where an IPv6 database keeps IPv4 networks. The table
// does not look IPv6 addresses there (IPv4-compatible, deprecated) up as
// IPv4 as the database does.
var ipv4Subtree = netip.MustParsePrefix("::/96")

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// randomPops is PoP networks over the random databases' address space:
// nested, overlapping, repeated by another PoP, siblings of one PoP, with
// host bits set, IPv4-mapped, and the edges /0, /32 and /128.
func randomPops(r *rand.Rand) []geo.PopNetwork {
	var pops []geo.PopNetwork
	add := func(p netip.Prefix) {
		name := fmt.Sprint("pop", r.IntN(6))
		pops = append(pops, geo.PopNetwork{Prefix: p, Pop: name, Location: geo.Location{City: name}})
	}
	for range 40 {
		if r.IntN(2) == 0 {
			a := netip.AddrFrom4([4]byte{byte(1 + r.IntN(4)), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
			p := netip.PrefixFrom(a, 8+r.IntN(25))
			if r.IntN(4) == 0 {
				p = netip.PrefixFrom(netip.AddrFrom16(a.As16()), 96+p.Bits())
			}
			add(p)
		} else {
			var b [16]byte
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			b[0], b[1] = 0x24, byte(r.IntN(4))
			add(netip.PrefixFrom(netip.AddrFrom16(b), 16+r.IntN(113)))
		}
	}
	for _, s := range []string{"0.0.0.0/0", "::/0", "2.3.4.5/32", "2400::1/128"} {
		add(netip.MustParsePrefix(s))
	}
	// A PoP's network split in two siblings, and one given twice.
	add(netip.MustParsePrefix("3.0.0.0/9"))
	pops = append(pops, geo.PopNetwork{Prefix: netip.MustParsePrefix("3.128.0.0/9"), Pop: pops[len(pops)-1].Pop, Location: pops[len(pops)-1].Location})
	pops = append(pops, pops[len(pops)-1])
	return pops
}

// popOf is the PoP whose network holds a, the most specific one, the last
// given of equal ones; "" for none.
func popOf(pops []geo.PopNetwork, a netip.Addr) string {
	best, bits := "", -1
	for _, p := range pops {
		pfx := p.Prefix.Masked()
		if pfx.Addr().Is4In6() {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		if pfx.Contains(a) && pfx.Bits() >= bits {
			best, bits = p.Pop, pfx.Bits()
		}
	}
	return best
}

// TestLeavesWithPops checks, on random databases with random PoP
// networks, that every leaf is one place throughout, the one the database
// or the most specific PoP network gives: the answer does not change
// anywhere an answer's ECS scope starting from the leaf claims.
func TestLeavesWithPops(t *testing.T) {
	for seed := range uint64(3) {
		path := randomDB(t, 20+seed, bothFamilies)
		db, err := geo.OpenDB(path)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 3))
		pops := randomPops(rng)
		if seed == 2 {
			pops = pops[:len(pops)-7] // without the PoPs that cover everything
		}
		tab := geo.Build(db, pops, geo.Location{City: "default"})
		r, err := maxminddb.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		want := func(a netip.Addr) string {
			if p := popOf(pops, a); p != "" {
				return p
			}
			if c := mmdbCity(t, r, a); c != "" {
				return c
			}
			return "default"
		}
		// The places change only where a network of the database or of
		// a PoP starts or ends.
		breaks := map[bool][]netip.Addr{}
		addBreaks := func(p netip.Prefix) {
			last := lastAddr(p)
			breaks[p.Addr().Is6()] = append(breaks[p.Addr().Is6()], p.Addr(), p.Addr().Prev(), last, last.Next())
		}
		for res := range r.Networks() {
			addBreaks(res.Prefix())
		}
		for _, p := range pops {
			pfx := p.Prefix.Masked()
			if pfx.Addr().Is4In6() {
				pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
			}
			addBreaks(pfx)
		}
		for _, v6 := range []bool{false, true} {
			bs := breaks[v6]
			slices.SortFunc(bs, netip.Addr.Compare)
			for i := range tab.Leaves(v6) {
				p := tab.Prefix(geo.Leaf{V6: v6, Index: i})
				c := tab.Classes()[tab.Lookup(p.Addr()).Class]
				got := c.Location.City
				lo, _ := slices.BinarySearchFunc(bs, p.Addr(), netip.Addr.Compare)
				hi := len(bs)
				if next := lastAddr(p).Next(); next.IsValid() && next.Is6() == v6 {
					hi, _ = slices.BinarySearchFunc(bs, next, netip.Addr.Compare)
				}
				for _, a := range append(bs[lo:hi:hi], p.Addr(), lastAddr(p)) {
					if !a.IsValid() || !p.Contains(a) || (v6 && (a.Is4In6() || ipv4Subtree.Contains(a))) {
						continue // looked up as IPv4, or the database's IPv4 subtree
					}
					if w := want(a); w != got {
						t.Fatalf("seed %d: leaf %s is %q, but %s is %q", seed, p, got, a, w)
					}
				}
			}
		}
	}
}

// tableAndReader builds the table of the database at path, with no PoP
// networks, and opens the same file with the maxminddb reader, closed
// when the test ends.
func tableAndReader(t *testing.T, path string) (*geo.Table, *maxminddb.Reader) {
	t.Helper()
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return geo.Build(db, nil, geo.Location{City: "default"}), r
}
