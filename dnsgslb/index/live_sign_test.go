package index

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// sharedSnapshot is the test snapshot with a nearest record of two
// answers over an origin that shares its address with us-east and one of
// two addresses: its answers can hold one address twice, and part of a
// candidate's addresses.
func sharedSnapshot() *v1.GslbSnapshot {
	snap := gslbtest.Snapshot()
	chicago := &v1.Location{Latitude: 41.88, Longitude: -87.63, Country: "US", Continent: "NA", Region: "amer", City: "Chicago"}
	paris := &v1.Location{Latitude: 48.86, Longitude: 2.35, Country: "FR", Continent: "EU", Region: "emea", City: "Paris"}
	snap.Origins = append(snap.Origins,
		&v1.SnapshotOrigin{Name: "us-central", Healthy: true, Spec: &v1.OriginSpec{Location: chicago, Addresses: []string{gslbtest.USEast4}, Weight: 10}},
		&v1.SnapshotOrigin{Name: "eu-paris", Healthy: true, Spec: &v1.OriginSpec{Location: paris, Addresses: []string{"192.0.2.21", "192.0.2.22"}, Weight: 10}},
	)
	snap.Records = append(snap.Records, &v1.GslbRecord{
		Metadata: &v1.ObjectMeta{Name: "shared"},
		Spec: &v1.GslbRecordSpec{Zone: "gslb", Name: "shared", Type: v1.RecordType_RECORD_TYPE_A, Policy: v1.Policy_POLICY_NEAREST,
			Origins: []string{"us-east", "us-central", "eu-paris", "ap-northeast"}, Answers: 2, Ttl: 30},
	})
	return snap
}

func testSigner(t *testing.T) (map[string]*dnssec.Signer, *dnssec.Key) {
	t.Helper()
	key, err := dnssec.Generate(t.TempDir(), gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, signedAt.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := dnssec.NewSigner(gslbtest.Zone, []*dnssec.Key{key}, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*dnssec.Signer{gslbtest.Zone: signer}, key
}

// askFrom answers q for a client subnet with the DO bit and unpacks the
// reply.
func askFrom(t *testing.T, ix *Index, name string, qtype uint16, client netip.Prefix) *dns.Msg {
	t.Helper()
	return askFromDO(t, ix, name, qtype, client, true)
}

// ecsOption is the ECS option a resolver sends for client's subnet, with
// source prefix length source: family 2 for IPv6 and IPv4-mapped addresses.
func ecsOption(client netip.Prefix, source int) *dns.EDNS0_SUBNET {
	family := uint16(1)
	if client.Addr().Is6() {
		family = 2
	}
	return &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(source), Address: net.IP(client.Addr().AsSlice())}
}

// askFromDO is askFrom with the DO bit given.
func askFromDO(t *testing.T, ix *Index, name string, qtype uint16, client netip.Prefix, do bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(4096, do)
	m.IsEdns0().Option = append(m.IsEdns0().Option, ecsOption(client, client.Bits()))
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q wire.Query
	wire.Parse(pkt, &q)
	out, _ := ix.Respond(make([]byte, 0, 4096), &q, netip.MustParseAddr("192.0.2.1"), 4096)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("%s from %s: unpack reply: %v", name, client, err)
	}
	return r
}

// rrsetOf is the section's records but RRSIGs, as sorted distinct
// strings.
func rrsetOf(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			out = append(out, rr.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestLiveSignedAnswersAsCompiled answers every record of a signed zone
// with the DO bit, one origin down and a traffic dial, from every fourth
// leaf of a 2,000-place database, compiled per class and assembled live:
// the live records are answered live, the RRsets are the same, every live
// answer's RRSIG verifies, no address is answered twice, the live signed
// answers make no allocation, explain shows their RRSIG, and one that
// does not fit is truncated.
func TestLiveSignedAnswersAsCompiled(t *testing.T) {
	snap := sharedSnapshot()
	snap.GetOrigins()[0].Healthy = false
	dialled := int32(40)
	snap.GetOrigins()[1].GetSpec().TrafficDial = &dialled
	db := randomDB(t, 5000, 2000)
	signers, key := testSigner(t)
	opts := Options{GeoIP: db, Signers: signers, Now: func() time.Time { return signedAt }}
	compiled, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	saved := liveBudget
	liveBudget = 0
	defer func() { liveBudget = saved }()
	// Concurrent, as a server's first build: the live RRsets are signed
	// ahead on every processor.
	concurrent := opts
	concurrent.Concurrent = true
	lv, err := Compile(snap, concurrent)
	if err != nil {
		t.Fatal(err)
	}
	nLive := 0
	for _, rec := range lv.records {
		if rec.live != nil {
			nLive++
			if rec.live.sigs == nil {
				t.Fatalf("record %s answered live in a signed zone without signatures", rec.object)
			}
		} else if rec.object == "shared" || rec.object == "nearest" {
			t.Fatalf("record %s is not answered live", rec.object)
		}
	}
	queries, signed := 0, 0
	for _, rec := range lv.records {
		if rec.live == nil {
			continue
		}
		for _, v6 := range []bool{false, true} {
			for i := 0; i < lv.table.Leaves(v6); i += 4 {
				pfx := lv.table.Prefix(geo.Leaf{V6: v6, Index: i})
				for k := range 2 {
					client := clientIn(pfx, k)
					got := askFrom(t, lv, rec.node.name, rec.qtype, client)
					want := askFrom(t, compiled, rec.node.name, rec.qtype, client)
					queries++
					if got.Rcode != want.Rcode || !slices.Equal(rrsetOf(got.Answer), rrsetOf(want.Answer)) {
						t.Fatalf("%s %s from %s: live %s %q, compiled %s %q", rec.node.name, typeName(rec.qtype), client,
							dns.RcodeToString[got.Rcode], rrsetOf(got.Answer), dns.RcodeToString[want.Rcode], rrsetOf(want.Answer))
					}
					if n := len(rrsetOf(got.Answer)); n > 0 {
						if len(got.Answer) != n+1 {
							t.Fatalf("%s from %s: live answer %v: want its %d distinct records and one RRSIG", rec.node.name, client, got.Answer, n)
						}
						verifySection(t, rec.node.name+" from "+client.String(), key, got.Answer)
						signed++
					} else {
						verifySection(t, rec.node.name+" from "+client.String()+" (authority)", key, got.Ns)
					}
				}
			}
		}
	}
	if signed == 0 {
		t.Fatal("no signed live answer was checked")
	}
	t.Logf("%d live records, %d queries compared, %d signed answers verified", nLive, queries, signed)

	m := new(dns.Msg)
	m.SetQuestion("shared."+gslbtest.Zone, dns.TypeA)
	m.SetEdns0(1232, true)
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q wire.Query
	wire.Parse(pkt, &q)
	dst := make([]byte, 0, 4096)
	src := netip.MustParseAddr("192.0.2.1")
	if n := testing.AllocsPerRun(100, func() { lv.Respond(dst, &q, src, 1232) }); n != 0 {
		t.Errorf("live signed answer: %.1f allocations per query, want 0", n)
	}
	// explain shows the RRSIG of a live answer.
	if ex := lv.Explain("shared."+gslbtest.Zone, dns.TypeA, netip.MustParsePrefix(gslbtest.London)); len(ex.Signatures) != 1 || len(ex.Answer) == 0 {
		t.Errorf("explain of a live signed answer: answer %q, signatures %q; want the answer and one signature", ex.Answer, ex.Signatures)
	}
	// Truncated when the signature does not fit.
	out, _ := lv.Respond(dst, &q, src, 100)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil || !r.Truncated || len(r.Answer) != 0 {
		t.Fatalf("live signed answer over 100 bytes: TC %v, %d answers (%v), want TC and none", r.Truncated, len(r.Answer), err)
	}
}

// TestLiveSignedHealthChangeSignsNothing compiles a signed zone whose
// records are all answered live, then the same snapshot with an origin
// down and back up, each with the previous index: the builds take every
// signature from the cache.
func TestLiveSignedHealthChangeSignsNothing(t *testing.T) {
	saved := liveBudget
	liveBudget = 0
	defer func() { liveBudget = saved }()
	snap := sharedSnapshot()
	db := randomDB(t, 5000, 2000)
	signers, _ := testSigner(t)
	opts := Options{GeoIP: db, Signers: signers, Now: func() time.Time { return signedAt }}
	ix, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Records compiled per class (failover, one candidate) get a new RRset
	// when an origin goes down.
	var live []*v1.GslbRecord
	for i, rec := range ix.records {
		if rec.live != nil {
			live = append(live, snap.Records[i])
		}
	}
	snap.Records = live
	opts.Signers, _ = testSigner(t)
	if ix, err = Compile(snap, opts); err != nil {
		t.Fatal(err)
	}
	if made := zoneOf(ix).signing.made; made == 0 {
		t.Fatal("the first build signed nothing")
	}
	for _, healthy := range []bool{false, true} {
		snap.GetOrigins()[0].Healthy = healthy
		opts.Previous = ix
		if ix, err = Compile(snap, opts); err != nil {
			t.Fatal(err)
		}
		if made := zoneOf(ix).signing.made; made != 0 {
			t.Errorf("origin %s healthy %v: the build signed %d RRsets, want none", snap.GetOrigins()[0].GetName(), healthy, made)
		}
	}
}

func zoneOf(ix *Index) *zone {
	for _, z := range ix.zones {
		return z
	}
	return nil
}

// TestSignedSerialChangeReusesRecords compiles a signed zone whose serial
// follows the revision, then the next revision with the first index
// given: the live records are taken as they were (their signatures too),
// the build signs only what carries the new serial, and a NODATA answer
// with DO carries the new serial and verifies.
func TestSignedSerialChangeReusesRecords(t *testing.T) {
	saved := liveBudget
	liveBudget = 0
	defer func() { liveBudget = saved }()
	snap := sharedSnapshot()
	snap.GetZones()[0].GetSpec().GetSoa().Serial = 0
	snap.Revision = 41
	v4only := proto.Clone(snap.GetRecords()[0]).(*v1.GslbRecord)
	v4only.Metadata.Name, v4only.Spec.Name, v4only.Spec.Type = "v4only", "v4only", v1.RecordType_RECORD_TYPE_AAAA
	v4only.Spec.Origins = []string{"us-west"}
	snap.Records = append(snap.Records, v4only)
	db := randomDB(t, 5000, 2000)
	signers, key := testSigner(t)
	opts := Options{GeoIP: db, Signers: signers, Now: func() time.Time { return signedAt }}
	first, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	snap.Revision = 42
	opts.Previous = first
	second, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range second.records {
		if rec.live != nil && rec.live.sigs != first.records[i].live.sigs {
			t.Errorf("record %s: live signatures made again although only the serial changed", rec.object)
		}
	}
	// The apex SOA, and the SOA of negative answers.
	if made := zoneOf(second).signing.made; made > 2 {
		t.Errorf("the build signed %d RRsets, want the two SOA RRsets at most", made)
	}
	r := ask(t, second, "v4only."+gslbtest.Zone, dns.TypeAAAA, true)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Fatalf("v4only AAAA: %v, want NODATA", r)
	}
	serial := uint32(0)
	for _, rr := range r.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			serial = soa.Serial
		}
	}
	if serial != 42 {
		t.Errorf("v4only AAAA NODATA: serial %d, want 42", serial)
	}
	if nsecs := verifySection(t, "v4only AAAA NODATA", key, r.Ns); len(nsecs) == 0 {
		t.Errorf("v4only AAAA NODATA carries no NSEC: %v", r.Ns)
	}
}
