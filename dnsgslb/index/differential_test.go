package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

// TestDifferentialUpdates applies a seeded random sequence of changes to
// a generated snapshot (health, weights, dials, TTLs, records added,
// removed and renamed, policies, candidate sets, residency, origins added,
// removed and moved, PoP service and RTTs, the zone's SOA) and builds each
// one as the server does, from the index before it (refined while
// Unfinished), and from scratch: both must answer every name and type
// alike for clients all over the prefix table, with and without ECS,
// scopes included. The server's first index, built quick, must answer as
// the refined one but for a scope never wider. It runs with records
// compiled per class, answered live, with a per-build scope budget small
// enough to leave builds unfinished, and in a signed zone of a fixed
// serial (signatures but their bytes compared).
func TestDifferentialUpdates(t *testing.T) {
	db := generatedDB(t)
	for _, mode := range []struct {
		name        string
		live, cells int
		signed      bool
	}{
		{"compiled", liveBudget, maxScopeCellsPerBuild, false},
		{"live", 0, maxScopeCellsPerBuild, false},
		{"budget", liveBudget, 70000, false},
		{"signed", 0, maxScopeCellsPerBuild, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			savedLive, savedCells := liveBudget, maxScopeCellsPerBuild
			liveBudget, maxScopeCellsPerBuild = mode.live, mode.cells
			defer func() { liveBudget, maxScopeCellsPerBuild = savedLive, savedCells }()
			opts := Options{GeoIP: db}
			steps := 40
			if mode.cells < 1<<20 {
				steps = 15 // each settles in several builds
			}
			if mode.signed {
				opts.Signers, opts.Now = scaleSigner(t), func() time.Time { return signedAt }
				steps = 15 // signing from scratch takes longer
			}
			differential(t, opts, 11, steps)
		})
	}
}

// differential runs steps changes from seed (see TestDifferentialUpdates).
func differential(t *testing.T, opts Options, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 77))
	snap := gslbscale.Snapshot(150, 24, seed)
	if opts.Signers != nil {
		// A fixed serial: answers are taken from build to build as they
		// are, not signed again for a new one.
		snap.Zones[0].Spec.Soa.Serial = 1
		// AAAA records over origins without IPv6 answer NODATA, with the
		// NSEC of their name.
		for i, o := range snap.Origins {
			if i%3 != 0 {
				o.Spec.Addresses = slices.DeleteFunc(o.Spec.Addresses, func(a string) bool { return netip.MustParseAddr(a).Is6() })
			}
		}
	}
	m := &mutator{r: r, snap: snap, names: opts.Signers != nil}
	first := opts
	first.Quick, first.Concurrent = true, true
	quick, err := Compile(proto.Clone(snap).(*v1.GslbSnapshot), first)
	if err != nil {
		t.Fatal(err)
	}
	prev := settle(t, snap, opts, quick)
	qs := queries(prev.table, snap, r)
	compareIndexes(t, "quick first index", quick, prev, qs, true)
	unfinished := 0
	for step := range steps {
		what := m.change()
		snap.Revision++
		next := opts
		next.Previous = prev
		inc, err := Compile(proto.Clone(snap).(*v1.GslbSnapshot), next)
		scratch, serr := Compile(proto.Clone(snap).(*v1.GslbSnapshot), opts)
		if (err == nil) != (serr == nil) {
			t.Fatalf("step %d (%s): from the previous index: %v; from scratch: %v", step, what, err, serr)
		}
		if err != nil {
			t.Logf("step %d (%s): refused: %v", step, what, err)
			m.undo()
			snap.Revision--
			continue
		}
		qs = queries(scratch.table, snap, r)
		label := fmt.Sprintf("step %d (%s)", step, what)
		// A build left unfinished answers right, with scopes no wider.
		want := settle(t, snap, opts, scratch)
		compareIndexes(t, label+", first build", inc, want, qs, inc.Unfinished())
		compareIndexes(t, label+", first build from scratch", scratch, want, qs, scratch.Unfinished())
		if inc.Unfinished() {
			unfinished++
		}
		inc = settle(t, snap, opts, inc)
		compareIndexes(t, label, inc, want, qs, false)
		prev = inc
	}
	if maxScopeCellsPerBuild < 1<<20 && unfinished == 0 {
		t.Errorf("no update left scope tables for later: the budget does not bite")
	}
}

// settle builds snap again from ix until the build is finished, as the
// server's refine does.
func settle(t *testing.T, snap *v1.GslbSnapshot, opts Options, ix *Index) *Index {
	t.Helper()
	for i := 0; ix.Quick() || ix.Unfinished(); i++ {
		if i == 100 {
			t.Fatal("still unfinished after 100 builds")
		}
		opts.Previous = ix
		next, err := Compile(proto.Clone(snap).(*v1.GslbSnapshot), opts)
		if err != nil {
			t.Fatal(err)
		}
		ix = next
	}
	return ix
}

// diffQuery is one query to ask both indexes, parsed.
type diffQuery struct {
	q   wire.Query
	src netip.Addr
	// desc says what was asked, from where.
	desc string
}

// queries are the questions asked of both indexes: every GslbRecord's
// name and type (and the other address type, and ANY), static names and a
// missing one, from clients in a sample of the table's leaves and the
// PoPs' cache networks, in several /24s (/56s) of each, with ECS, with an
// ECS source of 0 and without ECS.
func queries(table *geo.Table, snap *v1.GslbSnapshot, r *rand.Rand) []diffQuery {
	type question struct {
		name  string
		qtype uint16
	}
	var qus []question
	for _, rec := range snap.GetRecords() {
		name := rec.GetSpec().GetName() + "." + gslbscale.Zone
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS} {
			if !slices.Contains(qus, question{name, qt}) {
				qus = append(qus, question{name, qt})
			}
		}
	}
	qus = append(qus, question{"www." + gslbscale.Zone, dns.TypeA}, question{"missing." + gslbscale.Zone, dns.TypeA},
		question{gslbscale.Zone, dns.TypeSOA}, question{"svc00001." + gslbscale.Zone, dns.TypeANY})
	var clients []netip.Prefix
	for _, v6 := range []bool{false, true} {
		for i := range table.Leaves(v6) {
			if r.IntN(max(1, table.Leaves(v6)/40)) == 0 {
				pfx := table.Prefix(geo.Leaf{V6: v6, Index: i})
				clients = append(clients, clientIn(pfx, 0), clientIn(pfx, 1+r.IntN(5)))
			}
		}
	}
	for _, p := range snap.GetPops() {
		for _, s := range p.GetCacheNetworks() {
			pfx := netip.MustParsePrefix(s)
			clients = append(clients, clientIn(pfx, 0), clientIn(pfx, 3))
		}
	}
	out := make([]diffQuery, 0, len(qus)*len(clients)/4)
	for _, qu := range qus {
		// Each question from a sample of the clients, so that the
		// queries stay a few tens of thousands.
		for _, c := range clients {
			if r.IntN(4) != 0 {
				continue
			}
			ecs := r.IntN(6)
			out = append(out, makeQuery(qu.name, qu.qtype, c, ecs))
		}
	}
	return out
}

// makeQuery is a query for name and qtype from client: with ECS of the
// client's prefix, except with an ECS source of 0 (how 0) or no ECS (how
// 1), sent from the client's address.
func makeQuery(name string, qtype uint16, client netip.Prefix, how int) diffQuery {
	m := &dns.Msg{Question: []dns.Question{{Name: name, Qtype: qtype, Qclass: dns.ClassINET}}}
	m.Id = 1
	m.SetEdns0(1232, how%2 == 0)
	src := netip.MustParseAddr("192.0.2.1")
	desc := fmt.Sprintf("%s %s from %s", name, dns.TypeToString[qtype], client)
	switch how {
	case 0:
		m.IsEdns0().Option = append(m.IsEdns0().Option, ecsOption(client, 0))
		desc += " (ECS source 0)"
	case 1:
		src = client.Addr()
		desc += " (no ECS)"
	default:
		m.IsEdns0().Option = append(m.IsEdns0().Option, ecsOption(client, client.Bits()))
	}
	pkt, err := m.Pack()
	if err != nil {
		panic(err)
	}
	var dq diffQuery
	wire.Parse(pkt, &dq.q)
	dq.src, dq.desc = src, desc
	return dq
}

// compareIndexes asks both indexes every query: got must answer as want,
// with the same ECS scope, or, with narrower, a scope no wider.
func compareIndexes(t *testing.T, label string, got, want *Index, qs []diffQuery, narrower bool) {
	t.Helper()
	gb, wb := make([]byte, 0, 4096), make([]byte, 0, 4096)
	fails := 0
	for i := range qs {
		dq := &qs[i]
		gb, _ = got.Respond(gb[:0], &dq.q, dq.src, 4096)
		wb, _ = want.Respond(wb[:0], &dq.q, dq.src, 4096)
		if bytes.Equal(gb, wb) {
			continue
		}
		g, w := unpackReply(t, gb), unpackReply(t, wb)
		if g.text == w.text && (g.scope == w.scope || narrower && g.scope >= w.scope) {
			continue
		}
		t.Errorf("%s: %s:\n got %s scope /%d\nwant %s scope /%d", label, dq.desc, g.text, g.scope, w.text, w.scope)
		if fails++; fails == 5 {
			t.FailNow()
		}
	}
	if fails > 0 {
		t.FailNow()
	}
}

// reply is an unpacked reply: its rcode and records as text, and its ECS
// scope.
type reply struct {
	text  string
	scope int
}

func unpackReply(t *testing.T, b []byte) reply {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	// Signatures are made anew by a build from scratch: all but the
	// signature itself must be the same.
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			if sig, ok := rr.(*dns.RRSIG); ok {
				sig.Signature = ""
			}
		}
	}
	return reply{text: dns.RcodeToString[m.Rcode] + fmt.Sprint(m.Answer, m.Ns, m.Extra[:len(m.Extra)-1]), scope: scopeOf(m)}
}

// mutator makes random changes to a snapshot and can undo the last.
type mutator struct {
	r    *rand.Rand
	snap *v1.GslbSnapshot
	// saved is the snapshot before the last change.
	saved *v1.GslbSnapshot
	added int
	// names makes half the changes add, remove or rename records, which
	// changes the NSEC records of the names beside them.
	names bool
}

func (m *mutator) undo() { proto.Reset(m.snap); proto.Merge(m.snap, m.saved) }

// change makes one random change, or several at once one time in five,
// and says what it did.
func (m *mutator) change() string {
	m.saved = proto.Clone(m.snap).(*v1.GslbSnapshot)
	n := 1
	if m.r.IntN(5) == 0 {
		n = 2 + m.r.IntN(4)
	}
	var what []string
	for range n {
		what = append(what, m.one())
	}
	return fmt.Sprint(what)
}

func (m *mutator) origin() *v1.SnapshotOrigin {
	return m.snap.Origins[m.r.IntN(len(m.snap.Origins))]
}

func (m *mutator) record() *v1.GslbRecord {
	return m.snap.Records[m.r.IntN(len(m.snap.Records))]
}

// one makes one random change.
func (m *mutator) one() string {
	r, snap := m.r, m.snap
	c := r.IntN(22)
	if m.names && r.IntN(2) == 0 {
		c = 7 + r.IntN(3)
	}
	switch c {
	case 0, 1, 2:
		o := m.origin()
		o.Healthy = !o.Healthy
		return fmt.Sprintf("origin %s healthy %v", o.Name, o.Healthy)
	case 3:
		// Every candidate of a record down.
		rec := m.record()
		for _, name := range rec.Spec.Origins {
			for _, o := range snap.Origins {
				if o.Name == name {
					o.Healthy = false
				}
			}
		}
		return fmt.Sprintf("every origin of %s down", rec.Metadata.Name)
	case 4:
		o := m.origin()
		o.Spec.Weight = int32(r.IntN(5))
		return fmt.Sprintf("origin %s weight %d", o.Name, o.Spec.Weight)
	case 5:
		o := m.origin()
		if r.IntN(3) == 0 {
			o.Spec.TrafficDial = nil
		} else {
			o.Spec.TrafficDial = new(int32(r.IntN(101)))
		}
		return fmt.Sprintf("origin %s dial %d", o.Name, o.Spec.GetTrafficDial())
	case 6:
		rec := m.record()
		rec.Spec.Ttl = uint32(r.IntN(4) * 30)
		return fmt.Sprintf("record %s TTL %d", rec.Metadata.Name, rec.Spec.Ttl)
	case 7:
		// A new record: a copy of another under a new name.
		rec := proto.Clone(m.record()).(*v1.GslbRecord)
		m.added++
		// Named right after another, which changes that name's NSEC.
		rec.Metadata.Name = fmt.Sprintf("new%d", m.added)
		rec.Spec.Name = fmt.Sprintf("%s-%d", m.record().Spec.Name, m.added)
		at := r.IntN(len(snap.Records) + 1)
		snap.Records = slices.Insert(snap.Records, at, rec)
		return "add record " + rec.Metadata.Name
	case 8:
		i := r.IntN(len(snap.Records))
		name := snap.Records[i].Metadata.Name
		snap.Records = slices.Delete(snap.Records, i, i+1)
		return "remove record " + name
	case 9:
		rec := m.record()
		m.added++
		rec.Spec.Name = fmt.Sprintf("%s-r%d", m.record().Spec.Name, m.added)
		return fmt.Sprintf("rename record %s to %s", rec.Metadata.Name, rec.Spec.Name)
	case 10:
		rec := m.record()
		rec.Spec.Policy = v1.Policy(1 + r.IntN(4))
		return fmt.Sprintf("record %s policy %s", rec.Metadata.Name, rec.Spec.Policy)
	case 11:
		rec := m.record()
		if len(rec.Spec.Origins) == 0 {
			return "no change"
		}
		switch r.IntN(3) {
		case 0:
			if o := m.origin().Name; !slices.Contains(rec.Spec.Origins, o) {
				rec.Spec.Origins = append(rec.Spec.Origins, o)
			}
		case 1:
			if len(rec.Spec.Origins) > 1 && len(rec.Spec.Residency) == 0 {
				rec.Spec.Origins = rec.Spec.Origins[1:]
			}
		case 2:
			r.Shuffle(len(rec.Spec.Origins), func(i, j int) {
				rec.Spec.Origins[i], rec.Spec.Origins[j] = rec.Spec.Origins[j], rec.Spec.Origins[i]
			})
		}
		return fmt.Sprintf("record %s origins %v", rec.Metadata.Name, rec.Spec.Origins)
	case 12:
		rec := m.record()
		rec.Spec.WhenAllDown = v1.AllDownBehavior(r.IntN(4))
		return fmt.Sprintf("record %s whenAllDown %s", rec.Metadata.Name, rec.Spec.WhenAllDown)
	case 13:
		rec := m.record()
		rec.Spec.Answers = uint32(r.IntN(4))
		return fmt.Sprintf("record %s answers %d", rec.Metadata.Name, rec.Spec.Answers)
	case 14:
		// Residency: a rule for a continent or a country, the codes
		// several of both share (AS is Asia and American Samoa) among
		// them.
		rec := m.record()
		if len(rec.Spec.Origins) == 0 {
			return "no change"
		}
		code := []string{"AS", "SA", "AF", "NA", "EU", "US", "JP", "DE", "BR"}[r.IntN(9)]
		ru := &v1.ResidencyRule{Allowed: []string{rec.Spec.Origins[r.IntN(len(rec.Spec.Origins))]}}
		if validation.IsContinent(code) && (!validation.IsCountry(code) || r.IntN(2) == 0) {
			ru.Continents = []string{code}
		} else {
			ru.Countries = []string{code}
		}
		rec.Spec.Residency = []*v1.ResidencyRule{ru}
		return fmt.Sprintf("record %s residency %v", rec.Metadata.Name, ru)
	case 15:
		// A new origin somewhere another is.
		o := proto.Clone(m.origin()).(*v1.SnapshotOrigin)
		m.added++
		o.Name = fmt.Sprintf("extra-%d", m.added)
		o.Spec.Addresses = []string{fmt.Sprintf("198.51.100.%d", m.added%250+1), fmt.Sprintf("2001:db8:99::%x", m.added)}
		snap.Origins = append(snap.Origins, o)
		rec := m.record()
		if len(rec.Spec.Origins) > 0 {
			rec.Spec.Origins = append(rec.Spec.Origins, o.Name)
		}
		return fmt.Sprintf("add origin %s to %s", o.Name, rec.Metadata.Name)
	case 16:
		i := r.IntN(len(snap.Origins))
		name := snap.Origins[i].Name
		snap.Origins = slices.Delete(snap.Origins, i, i+1)
		return "remove origin " + name
	case 17:
		// An origin moved to another's location, or to one of its own.
		o := m.origin()
		o.Spec.Location = proto.Clone(m.origin().Spec.Location).(*v1.Location)
		return fmt.Sprintf("origin %s moved to %s", o.Name, o.Spec.Location.City)
	case 18:
		o := m.origin()
		switch r.IntN(3) {
		case 0:
			o.Spec.Addresses = []string{fmt.Sprintf("198.51.100.%d", r.IntN(250)+1)}
		case 1:
			o.Spec.Addresses = append(o.Spec.Addresses, fmt.Sprintf("2001:db8:98::%x", r.IntN(1000)))
		case 2:
			o.Spec.Addresses = []string{"lb.cloud.example.net"}
		}
		return fmt.Sprintf("origin %s addresses %v", o.Name, o.Spec.Addresses)
	case 19:
		p := snap.Pops[r.IntN(len(snap.Pops))]
		p.InService = !p.InService
		return fmt.Sprintf("pop %s in service %v", p.Name, p.InService)
	case 20:
		p := snap.Pops[r.IntN(len(snap.Pops))]
		o := m.origin().Name
		p.Rtt[o] = durationpb.New(time.Duration(1+r.IntN(300)) * time.Millisecond)
		return fmt.Sprintf("pop %s RTT to %s %s", p.Name, o, p.Rtt[o].AsDuration())
	default:
		soa := snap.Zones[0].Spec.Soa
		switch r.IntN(3) {
		case 0:
			soa.Minimum = uint32(30 + r.IntN(60))
		case 1:
			soa.Serial = uint32(r.IntN(1000))
		case 2:
			snap.Zones[0].Spec.DefaultTtl = uint32(60 + r.IntN(600))
		}
		return "zone SOA or TTL"
	}
}

// scaleSigner signs the generated snapshot's zone with a key of its own.
func scaleSigner(t *testing.T) map[string]*dnssec.Signer {
	t.Helper()
	key, err := dnssec.Generate(t.TempDir(), gslbscale.Zone, dns.ECDSAP256SHA256, dnssec.CSK, signedAt.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := dnssec.NewSigner(gslbscale.Zone, []*dnssec.Key{key}, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*dnssec.Signer{gslbscale.Zone: signer}
}

// generatedDB is a City-shaped database of 3,000 networks and 300
// locations (bench/gslbscale), as the differential tests use.
func generatedDB(t *testing.T) *geo.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := gslbscale.GeoDB(path, 3000, 300, 5); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
