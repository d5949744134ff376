package index

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// TestPopNetworkChangeAnswersAsBuilt: networks added to a PoP's cache
// networks (one inside a leaf of the database, one over many) patch the
// previous index's prefix table and keep its rankings; every record's
// reply, ECS scope included, from clients in every third leaf is the
// reply of an index compiled from scratch, compiled per class and live.
func TestPopNetworkChangeAnswersAsBuilt(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	for _, live := range []bool{false, true} {
		if live {
			defer SetLiveBudget(SetLiveBudget(0))
		}
		snap := gslbtest.Snapshot()
		first, err := Compile(snap, Options{GeoIP: db})
		if err != nil {
			t.Fatal(err)
		}
		inside := first.table.Prefix(geo.Leaf{Index: first.table.Leaves(false) / 3})
		over := first.table.Prefix(geo.Leaf{Index: 2 * first.table.Leaves(false) / 3})
		over = netip.PrefixFrom(over.Addr(), max(over.Bits()-6, 1)).Masked()
		if inside.Bits() < 30 {
			inside = netip.PrefixFrom(inside.Addr(), inside.Bits()+2)
		}
		p := snap.GetPops()[0]
		p.CacheNetworks = append(p.CacheNetworks, inside.String(), over.String())
		snap.Revision++
		patched, err := Compile(snap, Options{GeoIP: db, Previous: first})
		if err != nil {
			t.Fatal(err)
		}
		scratch, err := Compile(snap, Options{GeoIP: db})
		if err != nil {
			t.Fatal(err)
		}
		if patched.table == first.table || patched.table.Key() != scratch.table.Key() {
			t.Fatal("the prefix table was not made again for the new PoP networks")
		}
		if live && (patched.rows == nil || first.rows == nil || &patched.rows.rows[0] != &first.rows.rows[0]) {
			t.Error("the rankings were built again, though the classes did not change")
		}
		compared := 0
		for _, v6 := range []bool{false, true} {
			for i := 0; i < scratch.table.Leaves(v6); i += 3 {
				client := clientIn(scratch.table.Prefix(geo.Leaf{V6: v6, Index: i}), i%2)
				for _, rec := range scratch.records {
					got, want := respondFrom(t, patched, rec.node.name, rec.qtype, client), respondFrom(t, scratch, rec.node.name, rec.qtype, client)
					if !bytes.Equal(got, want) {
						a, b := new(dns.Msg), new(dns.Msg)
						a.Unpack(got)
						b.Unpack(want)
						t.Fatalf("live %v: %s %s from %s: patched index answers\n%v\nfrom scratch\n%v", live, rec.node.name, typeName(rec.qtype), client, a, b)
					}
					compared++
				}
			}
		}
		t.Logf("live %v: %d replies compared", live, compared)
	}
}

// respondFrom is ix's reply to a query for name and qtype with the client
// subnet as ECS.
func respondFrom(t *testing.T, ix *Index, name string, qtype uint16, client netip.Prefix) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 7
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, ecsOption(client, client.Bits()))
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q wire.Query
	wire.Parse(pkt, &q)
	out, _ := ix.Respond(make([]byte, 0, 4096), &q, netip.MustParseAddr("192.0.2.1"), 4096)
	return bytes.Clone(out)
}
