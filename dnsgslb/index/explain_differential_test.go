package index

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestExplainDifferential: over a generated snapshot (origins down, records
// whose every candidate is down under each whenAllDown, name origins,
// HTTPS records, several answers, traffic dials, weights, residency, PoP
// candidates) and clients all over the prefix table (IPv4 and IPv6 leaves,
// whole addresses, PoP cache networks, addresses the database does not
// hold, IPv4-mapped ECS, no ECS), what Explain says is answered is what
// the index answers a resolver's query for the same client (rcode,
// records in order, TTL, ECS scope), and its trace accounts for that
// answer: the candidates it marks answered are, in rank order, the ones
// the answer's addresses (or CNAME) come from; no excluded candidate is
// answered; health and residency exclusions follow the snapshot; ranks
// follow the policy; the bucket is the client subnet's. With records
// compiled per class and answered live.
func TestExplainDifferential(t *testing.T) {
	db := generatedDB(t)
	snap := explainSnapshot(3)
	for _, mode := range []struct {
		name   string
		live   int
		signed bool
	}{{"compiled", liveBudget, false}, {"live", 0, false}, {"signed compiled", liveBudget, true}, {"signed live", 0, true}} {
		t.Run(mode.name, func(t *testing.T) {
			saved := liveBudget
			liveBudget = mode.live
			defer func() { liveBudget = saved }()
			opts := Options{GeoIP: db}
			if mode.signed {
				opts.Signers, opts.Now = scaleSigner(t), func() time.Time { return signedAt }
			}
			ix, err := Compile(proto.Clone(snap).(*v1.GslbSnapshot), opts)
			if err != nil {
				t.Fatal(err)
			}
			nlive := 0
			for _, rec := range ix.records {
				if rec.live != nil {
					nlive++
				}
			}
			if (mode.live == 0) != (nlive > 0) {
				t.Fatalf("%d records answered live", nlive)
			}
			r := rand.New(rand.NewPCG(3, 5))
			clients := explainClients(ix.table, snap, r)
			var qus []explainQuestion
			for _, rec := range snap.GetRecords() {
				name := rec.GetSpec().GetName() + "." + gslbscale.Zone
				for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS} {
					if q := (explainQuestion{name, qt}); !slices.Contains(qus, q) {
						qus = append(qus, q)
					}
				}
			}
			qus = append(qus, explainQuestion{"www." + gslbscale.Zone, dns.TypeA}, explainQuestion{"alias." + gslbscale.Zone, dns.TypeA},
				explainQuestion{"missing." + gslbscale.Zone, dns.TypeA}, explainQuestion{gslbscale.Zone, dns.TypeSOA},
				explainQuestion{"elsewhere.example.org.", dns.TypeA})
			specs := recordSpecs(snap)
			checked, kinds := 0, map[string]int{}
			for _, qu := range qus {
				for _, c := range clients {
					if r.IntN(12) != 0 {
						continue
					}
					checked++
					kinds[checkExplanation(t, ix, snap, specs, qu, c)]++
				}
			}
			t.Logf("%d explanations checked against the index's answers (%v); %d records answered live", checked, kinds, nlive)
		})
	}
}

// explainQuestion is a name and type to explain.
type explainQuestion struct {
	name  string
	qtype uint16
}

// explainSnapshot is the generated snapshot with what selection can do to
// a record made more likely: origins down, records whose every candidate
// is down under each whenAllDown, name origins first and later, HTTPS
// records, several answers.
func explainSnapshot(seed uint64) *v1.GslbSnapshot {
	r := rand.New(rand.NewPCG(seed, 99))
	snap := gslbscale.Snapshot(160, 24, seed)
	for i, o := range snap.Origins {
		if i%7 == 3 {
			o.Healthy = false
		}
	}
	down := func(name string, from *v1.SnapshotOrigin) *v1.SnapshotOrigin {
		o := proto.Clone(from).(*v1.SnapshotOrigin)
		o.Name, o.Healthy = name, false
		snap.Origins = append(snap.Origins, o)
		return o
	}
	for i := range 3 {
		down(fmt.Sprintf("down-%d", i), snap.Origins[i*5])
	}
	host := down("cloud-lb", snap.Origins[4])
	host.Healthy = true
	host.Spec.Addresses = []string{"lb.cloud.example.net."}
	for i, rec := range snap.Records {
		spec := rec.GetSpec()
		if spec.GetPops() != nil {
			continue
		}
		switch i % 11 {
		case 0, 1, 2, 3:
			// Every candidate down, under each whenAllDown.
			spec.Origins = []string{"down-0", "down-1", "down-2"}[:1+i%3]
			spec.Residency = nil
			spec.WhenAllDown = v1.AllDownBehavior(i % 4)
		case 4:
			spec.Origins = append([]string{"cloud-lb"}, spec.Origins...)
		case 5:
			spec.Origins = append(spec.Origins, "cloud-lb")
		case 6:
			spec.Answers = uint32(2 + r.IntN(3))
		case 8, 9:
			// Residency: clients of the first candidate's continent (or
			// country) get it alone.
			first := slices.IndexFunc(snap.Origins, func(o *v1.SnapshotOrigin) bool { return o.Name == spec.Origins[0] })
			loc := snap.Origins[first].GetSpec().GetLocation()
			ru := &v1.ResidencyRule{Continents: []string{loc.GetContinent()}, Allowed: spec.Origins[:1]}
			if i%11 == 9 {
				ru = &v1.ResidencyRule{Countries: []string{loc.GetCountry()}, Allowed: spec.Origins[:1]}
			}
			spec.Residency = append([]*v1.ResidencyRule{ru}, spec.Residency...)
		case 10:
			// A twin: another origin, elsewhere, with the first one's
			// addresses (one load balancer registered twice).
			first := slices.IndexFunc(snap.Origins, func(o *v1.SnapshotOrigin) bool { return o.Name == spec.Origins[0] })
			twin := proto.Clone(snap.Origins[first]).(*v1.SnapshotOrigin)
			twin.Name = fmt.Sprintf("twin-%d", i)
			twin.Spec.Location = proto.Clone(snap.Origins[(first+5)%24].GetSpec().GetLocation()).(*v1.Location)
			snap.Origins = append(snap.Origins, twin)
			spec.Origins = append(spec.Origins, twin.Name)
			spec.Answers = uint32(1 + r.IntN(3))
		case 7:
			if spec.GetType() == v1.RecordType_RECORD_TYPE_A {
				spec.Type = v1.RecordType_RECORD_TYPE_HTTPS
				spec.Https = &v1.ServiceBinding{Priority: 1, Params: "alpn=h2,h3"}
				spec.Answers = uint32(1 + r.IntN(2))
			}
		}
	}
	// Hybrid records (the PoPs answer), one PoP out of service.
	for i, rec := range snap.Records[40:44] {
		rec.Spec.Origins, rec.Spec.Residency = nil, nil
		rec.Spec.Pops = &v1.PopSelector{All: true}
		rec.Spec.Policy = []v1.Policy{v1.Policy_POLICY_NEAREST, v1.Policy_POLICY_LATENCY}[i%2]
		if rec.Spec.Type == v1.RecordType_RECORD_TYPE_HTTPS {
			rec.Spec.Type = v1.RecordType_RECORD_TYPE_A
		}
	}
	snap.Pops[2].InService = false
	snap.Pops[4].CacheNetworks = append(snap.Pops[4].CacheNetworks, "::ffff:13.63.16.0/120", "::ffff:101.0.0.0/104")
	return snap
}

// explainClients are client subnets and addresses from a sample of the
// table's leaves, the PoPs' cache networks, networks the database does not
// hold, each IPv4 one also as IPv4-mapped ECS, and resolvers at such
// addresses sending no ECS (a prefix of length 0).
func explainClients(table *geo.Table, snap *v1.GslbSnapshot, r *rand.Rand) []netip.Prefix {
	var out []netip.Prefix
	for _, v6 := range []bool{false, true} {
		for i := range table.Leaves(v6) {
			if r.IntN(max(1, table.Leaves(v6)/60)) == 0 {
				pfx := table.Prefix(geo.Leaf{V6: v6, Index: i})
				c := clientIn(pfx, r.IntN(5))
				out = append(out, c, netip.PrefixFrom(c.Addr().Next(), c.Addr().BitLen()))
			}
		}
	}
	for _, p := range snap.GetPops() {
		for _, s := range p.GetCacheNetworks() {
			pfx := netip.MustParsePrefix(s)
			out = append(out, clientIn(pfx, 0), clientIn(pfx, 3), netip.PrefixFrom(pfx.Addr().Next(), pfx.Addr().BitLen()))
		}
	}
	for _, s := range []string{"13.63.16.0/24", "101.2.3.0/24", "198.18.7.0/24", "198.19.200.0/24", "2001:db8:77::/48", "2001:db8:78::/56", "100.64.0.9/32"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	for _, c := range slices.Clone(out) {
		if c.Addr().Is4() {
			out = append(out, netip.PrefixFrom(netip.AddrFrom16(c.Addr().As16()), 96+c.Bits()))
		}
	}
	for _, c := range slices.Clone(out) {
		if r.IntN(8) == 0 {
			out = append(out, netip.PrefixFrom(c.Addr(), 0))
		}
	}
	return out
}

func recordSpecs(snap *v1.GslbSnapshot) map[explainQuestion]*v1.GslbRecordSpec {
	types := map[v1.RecordType]uint16{v1.RecordType_RECORD_TYPE_A: dns.TypeA, v1.RecordType_RECORD_TYPE_AAAA: dns.TypeAAAA,
		v1.RecordType_RECORD_TYPE_HTTPS: dns.TypeHTTPS}
	out := map[explainQuestion]*v1.GslbRecordSpec{}
	for _, rec := range snap.GetRecords() {
		s := rec.GetSpec()
		out[explainQuestion{s.GetName() + "." + gslbscale.Zone, types[s.GetType()]}] = s
	}
	return out
}

// resolverQuery is the query a resolver sends for a client: with ECS of
// the client's subnet (family 2 for an IPv4-mapped one), from 192.0.2.1;
// without ECS, from the client's address, for a prefix of length 0.
func resolverQuery(name string, qtype uint16, client netip.Prefix) (wire.Query, netip.Addr) {
	m := &dns.Msg{Question: []dns.Question{{Name: name, Qtype: qtype, Qclass: dns.ClassINET}}}
	m.Id = 1
	m.SetEdns0(1232, true)
	src := netip.MustParseAddr("192.0.2.1")
	if client.Bits() == 0 {
		src = client.Addr()
	} else {
		m.IsEdns0().Option = append(m.IsEdns0().Option, ecsOption(client, client.Bits()))
	}
	pkt, err := m.Pack()
	if err != nil {
		panic(err)
	}
	var q wire.Query
	wire.Parse(pkt, &q)
	return q, src
}

// checkExplanation checks one explanation (see TestExplainDifferential)
// and says what kind of answer it was.
func checkExplanation(t *testing.T, ix *Index, snap *v1.GslbSnapshot, specs map[explainQuestion]*v1.GslbRecordSpec, qu explainQuestion, client netip.Prefix) string {
	t.Helper()
	ex := ix.Explain(qu.name, qu.qtype, client)
	desc := fmt.Sprintf("%s %s from %s", qu.name, dns.TypeToString[qu.qtype], client)
	q, src := resolverQuery(qu.name, qu.qtype, client)
	resp, _ := ix.Respond(make([]byte, 0, 65535), &q, src, 65535)
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		t.Fatalf("%s: reply does not unpack: %v", desc, err)
	}
	var want Explanation
	ix.describeReply(&want, resp)
	if ex.Rcode != want.Rcode || !slices.Equal(ex.Answer, want.Answer) || !slices.Equal(ex.Authority, want.Authority) ||
		ex.TTL != want.TTL || ex.Scope != want.Scope {
		t.Fatalf("%s: explain says %s %q %q TTL %d scope /%d; the index answers %s %q %q TTL %d scope /%d", desc,
			ex.Rcode, ex.Answer, ex.Authority, ex.TTL, ex.Scope, want.Rcode, want.Answer, want.Authority, want.TTL, want.Scope)
	}
	spec := specs[explainQuestion{dns.CanonicalName(qu.name), qu.qtype}]
	if spec == nil || (ex.Record == "") != (spec == nil) {
		if ex.Record != "" || len(ex.Candidates) > 0 {
			t.Fatalf("%s: a trace of %q for a name and type without a GslbRecord", desc, ex.Record)
		}
		return "untraced " + ex.Rcode
	}
	if ex.Record == "" {
		t.Fatalf("%s: no trace for a GslbRecord", desc)
	}
	checkTrace(t, desc, snap, spec, ex, m, client)
	kind := "traced " + ex.Rcode
	switch {
	case len(m.Answer) == 0:
		kind += " NODATA"
	case m.Answer[0].Header().Rrtype == dns.TypeCNAME:
		kind += " CNAME"
	case m.Answer[0].Header().Rrtype == dns.TypeHTTPS:
		kind += " HTTPS"
	case strings.Contains(strings.Join(ex.Notes, ""), "FAIL_OPEN"):
		kind += " fail-open"
	case len(ex.Answer) > 1:
		kind += " several"
	}
	if ex.Bucket >= 0 {
		kind += " bucket"
	}
	if strings.Contains(strings.Join(ex.Notes, ""), "residency") {
		kind += " residency"
	}
	return kind
}

// checkTrace checks that an explanation's trace accounts for the reply m.
func checkTrace(t *testing.T, desc string, snap *v1.GslbSnapshot, spec *v1.GslbRecordSpec, ex Explanation, m *dns.Msg, client netip.Prefix) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nexplanation: %+v", desc, fmt.Sprintf(format, args...), ex)
	}
	addr := client.Addr().Unmap()
	if !ex.Located.Leaf.Contains(addr) {
		fail("located in leaf %s, which does not hold %s", ex.Located.Leaf, addr)
	}
	if pop := popNetwork(snap, addr); (pop != "") != (ex.Located.Source == "pop") || pop != ex.Located.Pop {
		fail("located by %s at PoP %q; the client is in a cache network of PoP %q", ex.Located.Source, ex.Located.Pop, pop)
	}
	// Bucket: the client subnet's, when weights or dials read it.
	hashed := spec.GetPolicy() == v1.Policy_POLICY_WEIGHTED
	healthy := map[string]bool{}
	for _, o := range snap.GetOrigins() {
		healthy[o.GetName()] = o.GetHealthy()
		if o.GetSpec().TrafficDial != nil && o.GetSpec().GetTrafficDial() < 100 && slices.Contains(spec.GetOrigins(), o.GetName()) {
			hashed = true
		}
	}
	for _, p := range snap.GetPops() {
		healthy[p.GetName()] = p.GetInService()
	}
	if wantBucket := map[bool]int{false: -1, true: Bucket(addr)}[hashed]; ex.Bucket != wantBucket {
		fail("bucket %d, want %d", ex.Bucket, wantBucket)
	}
	// Residency: the first rule for the client's continent or country.
	var rule *v1.ResidencyRule
	for _, ru := range spec.GetResidency() {
		loc := ex.Located.Location
		if loc.Continent != "" && slices.Contains(ru.GetContinents(), loc.Continent) || loc.Country != "" && slices.Contains(ru.GetCountries(), loc.Country) {
			rule = ru
			break
		}
	}
	var ranked []CandidateExplanation
	for i, c := range ex.Candidates {
		if c.Healthy != healthy[c.Name] {
			fail("candidate %s healthy %v", c.Name, c.Healthy)
		}
		residency := strings.HasPrefix(c.Excluded, "residency")
		if disallowed := rule != nil && !slices.Contains(rule.GetAllowed(), c.Name); residency != disallowed && !strings.HasPrefix(c.Excluded, "no ") {
			fail("candidate %s excluded %q; residency rule %v", c.Name, c.Excluded, rule)
		}
		if strings.HasPrefix(c.Excluded, "unhealthy") && c.Healthy {
			fail("healthy candidate %s excluded %q", c.Name, c.Excluded)
		}
		if c.Excluded != "" && (c.Rank != 0 || c.Answered) {
			fail("excluded candidate %s ranked %d, answered %v", c.Name, c.Rank, c.Answered)
		}
		if c.Excluded == "" && !c.Healthy && !strings.Contains(c.Note, "fail-open") && c.Rank > 0 {
			fail("unhealthy candidate %s kept without failing open", c.Name)
		}
		if c.Rank > 0 {
			ranked = append(ranked, ex.Candidates[i])
		}
	}
	slices.SortFunc(ranked, func(a, b CandidateExplanation) int { return a.Rank - b.Rank })
	for i, c := range ranked {
		if c.Rank != i+1 {
			fail("ranks %v are not 1 to %d", ranked, len(ranked))
		}
	}
	checkRankOrder(t, desc, spec, ranked)
	// The answer, rebuilt from the trace.
	n := max(int(spec.GetAnswers()), 1)
	var addrs []string
	var host string
	from := map[string]bool{}
	for _, c := range ranked {
		if isHost(c) {
			if len(from) == 0 {
				host = c.Addresses[0]
				from[c.Name] = true
				break
			}
			continue
		}
		// An address already answered is passed over: a candidate
		// holding only such adds nothing and is not answered.
		https := spec.GetType() == v1.RecordType_RECORD_TYPE_HTTPS
		if https && len(from) == n {
			break
		}
		for _, a := range c.Addresses {
			if !https && len(addrs) == n {
				break
			}
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
				from[c.Name] = true
			}
		}
	}
	var got []string
	var gotHost string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			got = append(got, rr.A.String())
		case *dns.AAAA:
			got = append(got, rr.AAAA.String())
		case *dns.CNAME:
			gotHost = rr.Target
		case *dns.HTTPS:
			for _, kv := range rr.Value {
				switch kv := kv.(type) {
				case *dns.SVCBIPv4Hint:
					for _, ip := range kv.Hint {
						got = append(got, ip.String())
					}
				case *dns.SVCBIPv6Hint:
					for _, ip := range kv.Hint {
						got = append(got, ip.String())
					}
				}
			}
		}
	}
	if spec.GetType() == v1.RecordType_RECORD_TYPE_HTTPS {
		// Hints are listed by family.
		slices.SortStableFunc(addrs, func(a, b string) int {
			return map[bool]int{true: 0, false: 1}[netip.MustParseAddr(a).Is4()] - map[bool]int{true: 0, false: 1}[netip.MustParseAddr(b).Is4()]
		})
	}
	switch {
	case m.Rcode == dns.RcodeServerFailure:
		if len(ranked) > 0 || !strings.Contains(strings.Join(ex.Notes, "; "), "SERVFAIL") {
			fail("SERVFAIL with ranked candidates %v or no note saying why", ranked)
		}
		return
	case len(m.Answer) == 0:
		if len(ranked) > 0 && (len(addrs) > 0 || host != "") {
			fail("NODATA, but the trace ranks %v", ranked)
		}
		if len(ranked) == 0 && len(ex.Notes) == 0 {
			fail("NODATA with nothing ranked and no note saying why")
		}
	}
	if gotHost != host || !slices.Equal(got, addrs) {
		fail("the trace makes the answer %q %s; the index answered %q %s", addrs, host, got, gotHost)
	}
	for _, c := range ex.Candidates {
		if c.Answered != from[c.Name] {
			fail("candidate %s marked answered %v; the answer comes from %v", c.Name, c.Answered, from)
		}
	}
}

// checkRankOrder checks that ranked candidates are in the order of the
// record's policy, the candidates a traffic dial spilled after the rest.
func checkRankOrder(t *testing.T, desc string, spec *v1.GslbRecordSpec, ranked []CandidateExplanation) {
	t.Helper()
	var kept, spilled []CandidateExplanation
	for _, c := range ranked {
		if strings.Contains(c.Note, "traffic dial") {
			spilled = append(spilled, c)
		} else {
			if len(spilled) > 0 {
				t.Fatalf("%s: candidate %s kept after spilled ones: %+v", desc, c.Name, ranked)
			}
			kept = append(kept, c)
		}
	}
	for _, group := range [][]CandidateExplanation{kept, spilled} {
		for i := 1; i < len(group); i++ {
			a, b := group[i-1], group[i]
			var ok bool
			switch by := a.RankedBy; {
			case by == "distance":
				ok = a.DistanceKm <= b.DistanceKm+1e-6
			case strings.HasPrefix(by, "measured RTT"):
				ok = a.RTT > 0 && (b.RTT == 0 || a.RTT <= b.RTT) || a.RTT == 0 && b.RTT == 0 && a.DistanceKm <= b.DistanceKm+1e-6 || a.Kind == "pop" || b.Kind == "pop"
			default:
				ok = true // listed order or weights: no distance to check
			}
			if !ok {
				t.Fatalf("%s: %s ranked %d (%s, %.0f km, RTT %s) before %s (%.0f km, RTT %s)", desc, a.Name, a.Rank, a.RankedBy,
					a.DistanceKm, a.RTT, b.Name, b.DistanceKm, b.RTT)
			}
		}
	}
}

func isHost(c CandidateExplanation) bool {
	return len(c.Addresses) == 1 && !netip.MustParsePrefix("0.0.0.0/0").Contains(parseAddrOr(c.Addresses[0])) && !parseAddrOr(c.Addresses[0]).Is6()
}

func parseAddrOr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

// popNetwork is the PoP whose cache network holds addr, the most specific.
func popNetwork(snap *v1.GslbSnapshot, addr netip.Addr) string {
	best, bits := "", -1
	for _, p := range snap.GetPops() {
		for _, s := range p.GetCacheNetworks() {
			pfx := netip.MustParsePrefix(s)
			if pfx.Addr().Is4In6() {
				pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
			}
			if pfx.Contains(addr) && pfx.Bits() > bits {
				best, bits = p.GetName(), pfx.Bits()
			}
		}
	}
	return best
}
