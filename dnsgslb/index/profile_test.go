package index

import (
	"encoding/binary"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// randomDB writes and opens a GeoIP database of n networks in places
// places on six continents.
func randomDB(t testing.TB, n, places int) *geo.DB {
	t.Helper()
	nets := geotest.Scattered(n, places)
	path := filepath.Join(t.TempDir(), "random.mmdb")
	if err := geotest.Write(path, nets); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestProfilesAgreeWithPrepare checks, for every record of the test
// snapshot (with one origin down, so health and fail-open are exercised)
// and every location class of a database of 2,000 places, that the shared
// profile ranks the record's candidates exactly as prepare (what explain
// runs) does.
func TestProfilesAgreeWithPrepare(t *testing.T) {
	snap := gslbtest.Snapshot()
	snap.GetOrigins()[0].Healthy = false
	// Ranked by residency rule alone (listed order, a rule for Europe
	// and one for Japan): one ranking per place, not per class.
	for _, r := range snap.GetRecords() {
		if r.GetMetadata().GetName() == "eu-open" {
			rr := proto.Clone(r).(*v1.GslbRecord)
			rr.Metadata.Name, rr.Spec.Name = "eu-failover", "eu-failover"
			rr.Spec.Policy = v1.Policy_POLICY_FAILOVER
			rr.Spec.Residency = append(rr.Spec.Residency, &v1.ResidencyRule{Countries: []string{"JP"}, Allowed: rr.Spec.Origins[1:]})
			snap.Records = append(snap.Records, rr)
		}
	}
	ix, err := Compile(snap, Options{GeoIP: randomDB(t, 5000, 2000), Concurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	byPlace := 0 // records ranked by residency rule alone, per place
	for _, rec := range ix.records {
		if rec.prof.placeRC != nil {
			byPlace++
		}
		for ci := range ix.clients {
			want := rec.prepare(&ix.clients[ci], nil)
			got := rec.prof.preps[rec.prof.rc(int32(ci))]
			if want.rcode != got.rcode || want.nodata != got.nodata || want.allDown != got.allDown || !slices.Equal(want.base, got.base) {
				t.Fatalf("record %s, class %d (%+v): profile has %+v, prepare says %+v", rec.object, ci, ix.clients[ci].class, got, want)
			}
		}
	}
	if byPlace == 0 {
		t.Error("no record ranked per place (by residency rule alone): the test snapshot no longer covers that path")
	}
}

// TestRecompileReusesWhatDidNotChange compiles a snapshot, then the same
// with one origin's health flipped and one record's TTL changed, with the
// first as Previous: the table, and the profiles and compiled answers of
// the records that touch neither, are shared, and the answers are those
// of a compile from scratch.
func TestRecompileReusesWhatDidNotChange(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	snap := gslbtest.Snapshot()
	first, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	snap.GetOrigins()[1].Healthy = false
	flipped := snap.GetOrigins()[1].GetName()
	var retimed string
	for _, r := range snap.GetRecords() {
		if !slices.Contains(r.GetSpec().GetOrigins(), flipped) && len(r.GetSpec().GetOrigins()) > 1 {
			r.GetSpec().Ttl, retimed = 77, r.GetMetadata().GetName()
			break
		}
	}
	second, err := Compile(snap, Options{GeoIP: db, Previous: first})
	if err != nil {
		t.Fatal(err)
	}
	scratch, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	if second.table != first.table {
		t.Error("the prefix table was built again although the database and PoP networks did not change")
	}
	for i, rec := range second.records {
		uses := slices.ContainsFunc(rec.cands, func(c candidate) bool { return c.name == flipped })
		if shared := rec.prof == first.records[i].prof; shared == uses && rec.prof.varies() {
			t.Errorf("record %s (uses %s: %v): profile shared with the previous index: %v", rec.object, flipped, uses, shared)
		}
		changed := uses || rec.object == retimed
		if reused := len(rec.rcs) > 0 && &rec.rcs[0] == &first.records[i].rcs[0]; reused == changed {
			t.Errorf("record %s (changed: %v): compiled answers taken from the previous index: %v", rec.object, changed, reused)
		}
		for ci := range second.clients {
			got := rec.rcs[rec.prof.rc(int32(ci))].answers
			want := scratch.records[i].rcs[scratch.records[i].prof.rc(int32(ci))].answers
			if len(got) != len(want) {
				t.Fatalf("record %s class %d: %d answers, from scratch %d", rec.object, ci, len(got), len(want))
			}
			for k := range got {
				if string(got[k].msg) != string(want[k].msg) {
					t.Fatalf("record %s class %d bucket %d: answer differs from a compile from scratch", rec.object, ci, k)
				}
			}
		}
	}
}

// TestLiveAnswersAsCompiled answers every record of the test snapshot,
// with one origin down and a traffic dial, from every leaf of a database of
// 2,000 places (every fourth leaf, two client subnets in it, for the
// buckets), once
// with answers compiled per class and once assembled live: the answers are
// the same, and explain, which ranks as prepare does, names the answered
// candidates of the live index.
func TestLiveAnswersAsCompiled(t *testing.T) {
	snap := gslbtest.Snapshot()
	snap.GetOrigins()[0].Healthy = false
	dialled := int32(40)
	snap.GetOrigins()[1].GetSpec().TrafficDial = &dialled
	db := randomDB(t, 5000, 2000)
	compiled, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	saved := liveBudget
	liveBudget = 0
	defer func() { liveBudget = saved }()
	lv, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	nLive := 0
	for _, rec := range lv.records {
		if rec.live != nil {
			nLive++
		}
	}
	if nLive < 3 {
		t.Fatalf("only %d records answered live; the test needs the nearest and latency ones", nLive)
	}
	queries := 0
	for _, rec := range lv.records {
		if rec.live == nil {
			continue
		}
		for _, v6 := range []bool{false, true} {
			for i := 0; i < lv.table.Leaves(v6); i += 4 {
				pfx := lv.table.Prefix(geo.Leaf{V6: v6, Index: i})
				for k := range 2 {
					client := clientIn(pfx, k)
					got := lv.Explain(rec.node.name, rec.qtype, client)
					want := compiled.Explain(rec.node.name, rec.qtype, client)
					queries++
					if got.Rcode != want.Rcode || !slices.Equal(got.Answer, want.Answer) {
						t.Fatalf("%s %s from %s: live %s %q, compiled %s %q", rec.node.name, typeName(rec.qtype), client, got.Rcode, got.Answer, want.Rcode, want.Answer)
					}
					var named []string
					for _, c := range got.Candidates {
						if c.Answered {
							named = append(named, c.Addresses...)
						}
					}
					for _, a := range got.Answer {
						if !slices.ContainsFunc(named, func(addr string) bool { return strings.HasSuffix(a, "\t"+addr) }) {
							t.Fatalf("%s from %s: live answer %q is not among the candidates explain answers with %q", rec.node.name, client, a, named)
						}
					}
				}
			}
		}
	}
	t.Logf("%d live records, %d queries compared", nLive, queries)
}

// clientIn is the k-th /24 (IPv4) or /56 (IPv6) client subnet inside pfx,
// or pfx itself when it is no wider.
func clientIn(pfx netip.Prefix, k int) netip.Prefix {
	bits := 24
	if pfx.Addr().Is6() {
		bits = 56
	}
	if pfx.Bits() >= bits {
		return pfx
	}
	b := pfx.Addr().AsSlice()
	b[bits/8-1] += byte(k * 37)
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, bits).Masked()
}

// BenchmarkRespond answers a nearest query from a 2,000-place database
// with the record's answers compiled per class, and assembled live.
func BenchmarkRespond(b *testing.B) {
	snap := gslbtest.Snapshot()
	db := randomDB(b, 5000, 2000)
	m := new(dns.Msg)
	m.SetQuestion("nearest."+gslbtest.Zone, dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.ParseIP("1.2.3.0").To4()})
	pkt, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	var q wire.Query
	wire.Parse(pkt, &q)
	src := netip.MustParseAddr("192.0.2.1")
	for _, mode := range []struct {
		name string
		live int
	}{{"compiled", liveBudget}, {"live", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			saved := liveBudget
			liveBudget = mode.live
			ix, err := Compile(snap, Options{GeoIP: db})
			liveBudget = saved
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				ix.Respond(dst, &q, src, 1232)
			}
		})
	}
}

// TestRecompileWithTheRevisionAsSerial compiles a zone whose SOA serial
// follows the snapshot's revision (serial 0, the default), then the next
// revision with the first as Previous: the records are reused although
// the serial changed, and every answer, the negative ones carrying the new
// serial, is that of a compile from scratch.
func TestRecompileWithTheRevisionAsSerial(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	snap := gslbtest.Snapshot()
	snap.GetZones()[0].GetSpec().GetSoa().Serial = 0
	snap.Revision = 41
	// An AAAA record over origins with IPv4 addresses only answers NODATA,
	// with the SOA.
	v4only := proto.Clone(snap.GetRecords()[0]).(*v1.GslbRecord)
	v4only.Metadata.Name, v4only.Spec.Name, v4only.Spec.Type = "v4only", "v4only", v1.RecordType_RECORD_TYPE_AAAA
	v4only.Spec.Origins = []string{"us-west"}
	snap.Records = append(snap.Records, v4only)
	first, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	snap.Revision = 42
	second, err := Compile(snap, Options{GeoIP: db, Previous: first})
	if err != nil {
		t.Fatal(err)
	}
	scratch, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	negative := 0
	for i, rec := range second.records {
		if rec.prof != first.records[i].prof {
			t.Errorf("record %s: profile built again although only the serial changed", rec.object)
		}
		// Unsigned, they are served with the zone's serial.
		if &rec.rcs[0] != &first.records[i].rcs[0] {
			t.Errorf("record %s: compiled answers made again although only the serial changed", rec.object)
		}
		for ci := range second.clients {
			got := rec.rcs[rec.prof.rc(int32(ci))].answers
			want := scratch.records[i].rcs[scratch.records[i].prof.rc(int32(ci))].answers
			for k := range got {
				served := got[k].appendTo(nil, false, rec.node.zone)
				if string(served) != string(want[k].msg) {
					t.Fatalf("record %s class %d bucket %d: answer differs from a compile from scratch", rec.object, ci, k)
				}
				if got[k].serialAt != 0 {
					negative++
					if s := binary.BigEndian.Uint32(served[got[k].serialAt:]); s != 42 {
						t.Fatalf("record %s: negative answer with serial %d, want 42", rec.object, s)
					}
				}
			}
		}
	}
	if negative == 0 {
		t.Fatal("no negative answer was checked")
	}
	if &second.clients[0] != &first.clients[0] {
		t.Error("the clients were described again although the table and the PoPs did not change")
	}
	// Every name's NODATA and ANY answers are taken from the previous
	// index, the NODATA served with the new serial, and are those of a
	// compile from scratch.
	for k, n := range second.names {
		want, old := scratch.names[k], first.names[k]
		if n.any != old.any || n.nodata != old.nodata {
			t.Errorf("%s: ANY or NODATA answer packed again although its zone did not change", n.name)
		}
		nodata := n.nodata.appendTo(nil, false, n.zone)
		if string(nodata) != string(want.nodata.msg) || string(n.any.msg) != string(want.any.msg) {
			t.Fatalf("%s: NODATA or ANY answer differs from a compile from scratch", n.name)
		}
		if s := binary.BigEndian.Uint32(nodata[n.nodata.serialAt:]); s != 42 {
			t.Fatalf("%s: NODATA with serial %d, want 42", n.name, s)
		}
		for i, rs := range n.rrsets {
			if rs.static != nil && string(rs.static.msg) != string(want.rrsets[i].static.msg) {
				t.Fatalf("%s %s: static answer differs from a compile from scratch", n.name, typeName(rs.qtype))
			}
		}
	}
	// A changed SOA minimum (the negative TTL) packs them again.
	snap.GetZones()[0].GetSpec().GetSoa().Minimum++
	third, err := Compile(snap, Options{GeoIP: db, Previous: second})
	if err != nil {
		t.Fatal(err)
	}
	if scratch, err = Compile(snap, Options{GeoIP: db}); err != nil {
		t.Fatal(err)
	}
	for k, n := range third.names {
		if string(n.nodata.msg) != string(scratch.names[k].nodata.msg) {
			t.Fatalf("%s: NODATA after the SOA minimum changed differs from a compile from scratch", n.name)
		}
	}
}

// TestUnfinishedBuildsCatchUp compiles with a per-build budget of one
// scope table: the first index is unfinished, and compiling the same
// snapshot with each index as Previous adds tables until one is finished,
// whose answers and scopes are those of a compile under no such budget.
func TestUnfinishedBuildsCatchUp(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	snap := gslbtest.Snapshot()
	full, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	if full.Unfinished() {
		t.Fatal("the test snapshot's index is unfinished under the default budget")
	}
	saved := maxScopeCellsPerBuild
	maxScopeCellsPerBuild = full.table.Leaves(false) + full.table.Leaves(true)
	defer func() { maxScopeCellsPerBuild = saved }()
	ix, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Unfinished() {
		t.Fatal("an index built with room for one scope table is not unfinished")
	}
	builds := 1
	for ; ix.Unfinished(); builds++ {
		if builds > 50 {
			t.Fatal("still unfinished after 50 builds")
		}
		if ix, err = Compile(snap, Options{GeoIP: db, Previous: ix}); err != nil {
			t.Fatal(err)
		}
	}
	for i, rec := range ix.records {
		want := full.records[i]
		for f := range 2 {
			if !slices.Equal(rec.scopes[f], want.scopes[f]) {
				t.Fatalf("record %s: scopes after %d builds differ from a build with no budget", rec.object, builds)
			}
		}
	}
	t.Logf("finished after %d builds", builds)
}
