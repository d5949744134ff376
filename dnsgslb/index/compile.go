package index

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

// Options are the parts of an index that do not come from the snapshot.
type Options struct {
	// GeoIP is the decoded GeoIP database; nil locates every client that is
	// not a PoP at Default.
	GeoIP   *geo.DB
	Default geo.Location
	// ZoneSlot and OriginSlot give zones and candidates (origins and PoPs)
	// their metrics slots; nil gives slot 0.
	ZoneSlot   func(zone string) int
	OriginSlot func(name string) int
	// Previous is the index being replaced, if any: what the new one shares
	// with it (the prefix table, distances, rankings) is taken from it
	// rather than computed again.
	Previous *Index
	// Table is a prefix table built before, e.g. read from a file
	// (geo.ReadTableFile): used instead of building one when its key is
	// the one the snapshot needs.
	Table *geo.Table
	// GeoIPID names the GeoIP database (geo.Identify) while GeoIP is nil
	// because it is not read yet: Compile then takes the prefix table from
	// Previous or Table, or fails with ErrNeedGeoIP.
	GeoIPID string
	// Concurrent lets Compile use more than one goroutine, for a build
	// that takes no CPU from serving (a server's first).
	Concurrent bool
	// Quick leaves out the ECS scope tables, the slowest part of a build
	// that reuses a prefix table: every answer then carries its client's
	// leaf as scope, which is correct but narrower. A later Compile with
	// the quick index as Previous adds them (see Index.Quick).
	Quick bool
	// Signers sign the zones they are given for, by canonical apex name
	// ("example.com."); other zones are not signed.
	Signers map[string]*dnssec.Signer
	// Now is the time signatures are made at; nil is time.Now.
	Now func() time.Time
}

// Compile builds the index of a snapshot. It fails, naming the object, field
// and value, on data it cannot serve.
func Compile(snap *v1.GslbSnapshot, opts Options) (*Index, error) {
	return CompileContext(context.Background(), snap, opts)
}

// CompileContext is Compile that gives up with ctx's error once ctx ends.
func CompileContext(ctx context.Context, snap *v1.GslbSnapshot, opts Options) (*Index, error) {
	if opts.ZoneSlot == nil {
		opts.ZoneSlot = func(string) int { return 0 }
	}
	if opts.OriginSlot == nil {
		opts.OriginSlot = func(string) int { return 0 }
	}
	// Sized for the records up front: growing maps of thousands of
	// entries was a good part of an update's cost.
	nrec := len(snap.GetRecords())
	ix := &Index{
		revision:    snap.GetRevision(),
		compiledAt:  snap.GetCompiledAt().AsTime(),
		digest:      snap.GetDigest(),
		names:       make(map[string]*node, nrec+16),
		zones:       map[string]*zone{},
		profiles:    make(map[string]*profile, len(opts.Previous.profilesOrNil())),
		profKeys:    map[string]string{},
		placeScopes: map[string][2][]uint8{},
		records:     make([]*record, 0, nrec),
		alloc:       &buildAlloc{},
	}
	defer func() { ix.alloc = nil }()
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	byObject := map[string]*zone{}
	compiled := make([]*zone, 0, len(snap.GetZones()))
	for _, z := range snap.GetZones() {
		zn, err := compileZone(z, snap.GetRevision())
		if err != nil {
			return nil, err
		}
		if err := startSigning(zn, opts.Previous, opts, now); err != nil {
			return nil, fmt.Errorf("GslbZone %q: %w", zn.object, err)
		}
		key := wireKey(zn.apex)
		if other, ok := ix.zones[key]; ok {
			return nil, fmt.Errorf("GslbZone %q field zone: %q is already served by GslbZone %q", zn.object, zn.apex, other.object)
		}
		zn.slot = opts.ZoneSlot(zn.apex)
		ix.zones[key] = zn
		byObject[zn.object] = zn
		compiled = append(compiled, zn)
	}
	// Every zone is known before any data is added: a name belongs to
	// the deepest zone it is in, whichever zone's data creates it.
	for i, z := range snap.GetZones() {
		if err := ix.addZoneData(compiled[i], z.GetSpec()); err != nil {
			return nil, err
		}
	}
	pops := map[string]*v1.SnapshotPop{}
	var popNets []geo.PopNetwork
	for _, p := range snap.GetPops() {
		pops[p.GetName()] = p
		for i, s := range p.GetCacheNetworks() {
			pfx, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("Pop %q field cache_networks[%d]: bad network %q: %w", p.GetName(), i, s, err)
			}
			popNets = append(popNets, geo.PopNetwork{Prefix: pfx, Pop: p.GetName(), Location: location(p.GetLocation())})
		}
	}
	popNets = sortedPopNets(popNets)
	b, err := newBuilder(ctx, ix, opts.Previous, popNets, opts)
	if err != nil {
		return nil, err
	}
	b.quick, ix.quick, b.concurrent = opts.Quick, opts.Quick, opts.Concurrent
	b.describeClients(pops)
	src := newSources(snap, pops)
	if err := b.sourceSigs(snap, opts); err != nil {
		return nil, err
	}
	for i, r := range snap.GetRecords() {
		rec, err := b.record(i, r, byObject, src, opts)
		if err != nil {
			return nil, err
		}
		ix.records = append(ix.records, rec)
	}
	for _, z := range ix.zones {
		if z.signing == nil {
			continue
		}
		if err := ix.buildChain(z); err != nil {
			return nil, fmt.Errorf("GslbZone %q: %w", z.object, err)
		}
		if at := z.signing.signer.RefreshAt(z.signing.at); ix.resignAt.IsZero() || at.Before(ix.resignAt) {
			ix.resignAt = at
		}
		if z.signing.at.After(ix.signedAt) {
			ix.signedAt = z.signing.at
		}
	}
	b.decideLive()
	if b.concurrent {
		if err := b.presignLive(); err != nil {
			return nil, err
		}
	}
	for _, rec := range ix.records {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := b.compileRecord(rec); err != nil {
			return nil, fmt.Errorf("GslbRecord %q: %w", rec.object, err)
		}
	}
	b.finish()
	if err := ix.findCuts(); err != nil {
		return nil, err
	}
	same := map[*zone]bool{}
	if p := opts.Previous; p != nil {
		for k, z := range ix.zones {
			if pz := p.zones[k]; pz != nil && sameNegatives(z, pz) {
				same[z] = true
			}
		}
	}
	for k, n := range ix.names {
		if err := n.check(); err != nil {
			return nil, err
		}
		var prev *node
		if same[n.zone] {
			if pn := opts.Previous.names[k]; pn != nil && pn.zone.apex == n.zone.apex {
				prev = pn
			}
		}
		if err := n.finishAnswers(prev, ix.names); err != nil {
			return nil, err
		}
	}
	return ix, nil
}

// node returns the node of a name inside zone z, creating it and the empty
// non-terminals above it. The node belongs to the deepest zone the name is
// in, which is z or a zone below it: data of a zone that reaches into one
// below (a name server, a static record) is that zone's name.
func (ix *Index) node(name string, z *zone) *node {
	return ix.nodeKeyed(name, wireKey(name), z)
}

// nodeKeyed is node with the name's key given.
func (ix *Index) nodeKeyed(name, key string, z *zone) *node {
	if n, ok := ix.names[key]; ok {
		return n
	}
	owner := z
	if at, ok := ix.zones[key]; ok {
		owner = at
	} else if name != z.apex {
		if i := strings.IndexByte(name, '.'); i >= 0 {
			var parent *node
			if strings.IndexByte(name, '\\') < 0 && len(key) > int(key[0])+1 {
				// The parent's key is the rest of this one.
				parent = ix.nodeKeyed(name[i+1:], key[int(key[0])+1:], z)
			} else {
				parent = ix.node(name[i+1:], z)
			}
			owner = parent.zone
		}
	}
	var n *node
	if ix.alloc != nil {
		n = ix.alloc.nodes.get()
		*n = node{name: name, key: key, wlen: len(key), zone: owner}
	} else {
		n = &node{name: name, key: key, wlen: len(key), zone: owner}
	}
	ix.names[key] = n
	if owner != z && name == owner.apex {
		// The apex of a zone below z: the names above it are z's.
		if i := strings.IndexByte(name, '.'); i >= 0 {
			ix.node(name[i+1:], z)
		}
	}
	return n
}

// addStatic adds fixed records of one type at a node.
func (n *node) addStatic(qtype uint16, rrs ...dns.RR) error {
	rs := n.find(qtype)
	if rs == nil {
		n.rrsets = append(n.rrsets, rrset{qtype: qtype})
		rs = &n.rrsets[len(n.rrsets)-1]
	} else if rs.rec != nil {
		return fmt.Errorf("%s %s is both a GslbRecord %q and a static record", n.name, typeName(qtype), rs.rec.object)
	}
	// An RRset holds each record once (RFC 2181 section 5): a value given
	// twice is served once, as other servers load it.
	for _, rr := range rrs {
		if !slices.ContainsFunc(rs.rrs, func(have dns.RR) bool { return dns.IsDuplicate(have, rr) }) {
			rs.rrs = append(rs.rrs, rr)
		}
	}
	return nil
}

func (ix *Index) addZoneData(zn *zone, spec *v1.GslbZoneSpec) error {
	apex := ix.node(zn.apex, zn)
	if err := apex.addStatic(dns.TypeSOA, zn.soa); err != nil {
		return err
	}
	if len(zn.ns) > 0 {
		if err := apex.addStatic(dns.TypeNS, zn.ns...); err != nil {
			return err
		}
	}
	if len(zn.dnskeys) > 0 {
		if err := apex.addStatic(dns.TypeDNSKEY, zn.dnskeys...); err != nil {
			return err
		}
	}
	for i, sr := range spec.GetRecords() {
		name, err := inZone(sr.GetName(), zn.apex)
		if err != nil {
			return fmt.Errorf("GslbZone %q field records[%d].name: %w", zn.object, i, err)
		}
		ttl := sr.GetTtl()
		if ttl == 0 {
			ttl = zn.ttl
		}
		rrs, qtype, err := staticRRs(name, ttl, sr, zn.apex)
		if err != nil {
			return fmt.Errorf("GslbZone %q field records[%d]: %w", zn.object, i, err)
		}
		if err := ix.node(name, zn).addStatic(qtype, rrs...); err != nil {
			return fmt.Errorf("GslbZone %q field records[%d]: %w", zn.object, i, err)
		}
		if qtype == dns.TypeNS && name != zn.apex {
			ix.delegates = true
		}
	}
	// Glue names inside the zone answer A and AAAA queries too, unless a
	// static record of the same name and type says otherwise.
	var keys []string
	glue := map[string][]dns.RR{}
	for _, g := range zn.glue {
		k := g.Header().Name + " " + typeName(g.Header().Rrtype)
		if glue[k] == nil {
			keys = append(keys, k)
		}
		glue[k] = append(glue[k], g)
	}
	for _, k := range keys {
		h := glue[k][0].Header()
		if n := ix.node(h.Name, zn); n.find(h.Rrtype) == nil {
			if err := n.addStatic(h.Rrtype, glue[k]...); err != nil {
				return err
			}
		}
	}
	return nil
}

func staticRRs(name string, ttl uint32, sr *v1.StaticRecord, apex string) ([]dns.RR, uint16, error) {
	var out []dns.RR
	var qtype uint16
	switch sr.GetType() {
	case v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA:
		qtype = dns.TypeA
		if sr.GetType() == v1.RecordType_RECORD_TYPE_AAAA {
			qtype = dns.TypeAAAA
		}
		for j, v := range sr.GetValues() {
			a, err := netip.ParseAddr(v)
			if err != nil || a.Unmap().Is4() != (qtype == dns.TypeA) {
				return nil, 0, fmt.Errorf("field values[%d]: %q is not an %s address", j, v, typeName(qtype))
			}
			out = append(out, addrRR(name, ttl, a.Unmap()))
		}
	case v1.RecordType_RECORD_TYPE_CNAME:
		qtype = dns.TypeCNAME
		if len(sr.GetValues()) != 1 {
			return nil, 0, fmt.Errorf("field values: a CNAME has exactly one target, got %d", len(sr.GetValues()))
		}
		target, err := canonical(sr.GetValues()[0])
		if err != nil {
			return nil, 0, fmt.Errorf("field values[0]: %w", err)
		}
		out = append(out, &dns.CNAME{Hdr: hdr(name, dns.TypeCNAME, ttl), Target: target})
	case v1.RecordType_RECORD_TYPE_TXT:
		qtype = dns.TypeTXT
		for _, v := range sr.GetValues() {
			out = append(out, &dns.TXT{Hdr: hdr(name, dns.TypeTXT, ttl), Txt: splitTXT(v)})
		}
	case v1.RecordType_RECORD_TYPE_MX, v1.RecordType_RECORD_TYPE_SRV, v1.RecordType_RECORD_TYPE_CAA,
		v1.RecordType_RECORD_TYPE_NS, v1.RecordType_RECORD_TYPE_SVCB, v1.RecordType_RECORD_TYPE_HTTPS,
		v1.RecordType_RECORD_TYPE_DS:
		if sr.GetType() == v1.RecordType_RECORD_TYPE_NS && name == apex {
			return nil, 0, fmt.Errorf("field type: NS at the zone apex: the zone's name servers are its name_servers")
		}
		for j, v := range sr.GetValues() {
			rr, err := validation.RecordData(sr.GetType(), name, ttl, v, apex)
			if err != nil {
				return nil, 0, fmt.Errorf("field values[%d] %q: %w", j, v, err)
			}
			qtype = rr.Header().Rrtype
			out = append(out, rr)
		}
	default:
		return nil, 0, fmt.Errorf("field type: unsupported record type %q", sr.GetType())
	}
	if len(out) == 0 {
		return nil, 0, fmt.Errorf("field values: empty")
	}
	return out, qtype, nil
}

// splitTXT cuts a value into the character-strings of one TXT record, of
// at most 255 bytes each. github.com/miekg/dns reads a backslash in them as
// an escape, so each one is escaped after the cut.
func splitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, strings.ReplaceAll(v[:255], `\`, `\\`))
		v = v[255:]
	}
	return append(out, strings.ReplaceAll(v, `\`, `\\`))
}

// check enforces that a CNAME is alone at its node.
func (n *node) check() error {
	if n.find(dns.TypeCNAME) != nil && len(n.rrsets) > 1 {
		return fmt.Errorf("%s has a CNAME and other records; a CNAME must be alone", n.name)
	}
	return nil
}

func location(l *v1.Location) geo.Location {
	return geo.Location{
		Latitude: l.GetLatitude(), Longitude: l.GetLongitude(),
		Country: strings.ToUpper(l.GetCountry()), Continent: strings.ToUpper(l.GetContinent()), City: l.GetCity(),
	}
}
