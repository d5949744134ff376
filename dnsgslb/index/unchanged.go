package index

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// A record whose spec, zone and sources (the origins it names, or the
// PoPs) are what they were in the previous build is taken as parsed from
// the previous index's record at the same position: its candidates,
// rules, profile key and record key are not made again, and reuse then
// takes its compiled form. An update that changes one record or one
// origin parses and compiles those records only; the others cost a
// comparison of their marshalled spec.

// marshalSpec marshals specs and sources deterministically, for comparison.
var marshalSpec = proto.MarshalOptions{Deterministic: true}

// sourceSigs sets the index's source signatures: each origin's and the
// PoPs' snapshot objects, marshalled, and their metrics slots: everything
// addCandidates reads of them. A signature equal to the previous index's
// is taken from it.
func (b *builder) sourceSigs(snap *v1.GslbSnapshot, opts Options) error {
	ix := b.ix
	ix.srcSigs = make(map[string]string, len(snap.GetOrigins()))
	var prev map[string]string
	if b.prev != nil {
		prev = b.prev.srcSigs
	}
	sig := func(name string, m proto.Message) (string, error) {
		k, err := marshalSpec.MarshalAppend(b.scratch[:0], m)
		if err != nil {
			return "", fmt.Errorf("marshal %q: %w", name, err)
		}
		k = strconv.AppendInt(append(k, '/'), int64(opts.OriginSlot(name)), 10)
		b.scratch = k
		if s, ok := prev[name]; ok && s == string(k) {
			return s, nil
		}
		return string(k), nil
	}
	for _, o := range snap.GetOrigins() {
		s, err := sig(o.GetName(), o)
		if err != nil {
			return fmt.Errorf("Origin %w", err)
		}
		ix.srcSigs[o.GetName()] = s
	}
	var pops []byte
	for _, p := range snap.GetPops() {
		s, err := sig(p.GetName(), p)
		if err != nil {
			return fmt.Errorf("Pop %w", err)
		}
		pops = append(pops, s...)
		pops = append(pops, '|')
	}
	ix.popsSig = string(pops)
	if b.prev != nil && b.prev.popsSig == ix.popsSig {
		ix.popsSig = b.prev.popsSig
	}
	return nil
}

// sameSource reports whether the origin of that name is as it was in the
// previous build (or missing from both).
func (b *builder) sameSource(name string) bool {
	s, has := b.ix.srcSigs[name]
	ps, had := b.prev.srcSigs[name]
	return has == had && s == ps
}

// record parses the i-th GslbRecord of the snapshot, or takes it from the
// previous index (see unchanged).
func (b *builder) record(i int, r *v1.GslbRecord, zones map[string]*zone, src *sources, opts Options) (*record, error) {
	spec, err := marshalSpec.MarshalAppend(b.specBuf[:0], r.GetSpec())
	if err != nil {
		return nil, fmt.Errorf("GslbRecord %q: %w", r.GetMetadata().GetName(), err)
	}
	b.specBuf = spec
	if old := b.unchanged(i, r, zones); old != nil {
		return b.retake(old, zones[r.GetSpec().GetZone()])
	}
	rec, err := b.ix.newRecord(r, zones, src, opts)
	if err != nil {
		return nil, err
	}
	rec.spec = string(spec)
	var was string
	if b.prev != nil && i < len(b.prev.records) {
		old := b.prev.records[i]
		if old.spec == rec.spec {
			rec.spec = old.spec
		}
		was = old.profKey
	}
	b.profileKey(rec, was)
	b.ix.parsed++
	return rec, nil
}

// unchanged returns the previous index's i-th record if r is that record
// with the same spec, in a zone of the same name and default TTL, naming
// sources that did not change, and the latency policy reads the same
// RTTs (the profile key has them); else nil. b.specBuf holds r's spec,
// marshalled.
func (b *builder) unchanged(i int, r *v1.GslbRecord, zones map[string]*zone) *record {
	p := b.prev
	if p == nil || i >= len(p.records) || p.rttSig != b.rttSig {
		return nil
	}
	old := p.records[i]
	spec := r.GetSpec()
	if old.object != r.GetMetadata().GetName() || old.spec != string(b.specBuf) {
		return nil
	}
	zn, oz := zones[spec.GetZone()], old.node.zone
	if zn == nil || zn.object != oz.object || zn.apex != oz.apex || zn.ttl != oz.ttl {
		return nil
	}
	if len(spec.GetOrigins()) == 0 {
		if p.popsSig != b.ix.popsSig {
			return nil
		}
		return old
	}
	for _, name := range spec.GetOrigins() {
		if !b.sameSource(name) {
			return nil
		}
	}
	return old
}

// retake is a new record of zone zn parsed as old was, not yet compiled.
func (b *builder) retake(old *record, zn *zone) (*record, error) {
	rec := b.ix.alloc.records.get()
	*rec = *old
	rec.built, rec.from = built{}, old
	n := b.ix.nodeKeyed(old.node.name, old.node.key, zn)
	if n.find(rec.qtype) != nil {
		return nil, fmt.Errorf("GslbRecord %q: %s %s is already defined", rec.object, n.name, typeName(rec.qtype))
	}
	rec.node = n
	b.ix.addRRset(n, rrset{qtype: rec.qtype, rec: rec})
	return rec, nil
}

// keyUnchanged reports whether rec, taken as parsed (see retake), has the
// record key of the record it was taken from when compiled live or not:
// its zone has the same SOA (but for the serial) and signing keys.
func keyUnchanged(rec *record, live bool) bool {
	old := rec.from
	if old == nil || old.keyLive != live || old.key == "" {
		return false
	}
	a, c := rec.node.zone, old.node.zone
	x, y := a.soa, c.soa
	if x.Ns != y.Ns || x.Mbox != y.Mbox || x.Hdr.Ttl != y.Hdr.Ttl || x.Refresh != y.Refresh ||
		x.Retry != y.Retry || x.Expire != y.Expire || x.Minttl != y.Minttl {
		return false
	}
	if a.signing == nil || c.signing == nil {
		return a.signing == c.signing
	}
	return a.signing.id == c.signing.id
}
