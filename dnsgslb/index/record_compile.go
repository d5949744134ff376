package index

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

func (ix *Index) newRecord(r *v1.GslbRecord, zones map[string]*zone, src *sources, opts Options) (*record, error) {
	spec := r.GetSpec()
	obj := r.GetMetadata().GetName()
	zn := zones[spec.GetZone()]
	if zn == nil {
		return nil, fmt.Errorf("GslbRecord %q field zone: no GslbZone %q in the snapshot", obj, spec.GetZone())
	}
	name, err := inZone(spec.GetName(), zn.apex)
	if err != nil {
		return nil, fmt.Errorf("GslbRecord %q field name: %w", obj, err)
	}
	rec := &record{
		object: obj, policy: spec.GetPolicy(), answers: int(spec.GetAnswers()), ttl: spec.GetTtl(),
		whenAllDown: spec.GetWhenAllDown(),
	}
	switch spec.GetType() {
	case v1.RecordType_RECORD_TYPE_A:
		rec.qtype = dns.TypeA
	case v1.RecordType_RECORD_TYPE_AAAA:
		rec.qtype = dns.TypeAAAA
	case v1.RecordType_RECORD_TYPE_HTTPS:
		rec.qtype = dns.TypeHTTPS
		sb := spec.GetHttps()
		if rec.https, err = validation.ServiceBindingRR(name, 0, sb.GetPriority(), ".", sb.GetParams()); err != nil {
			return nil, fmt.Errorf("GslbRecord %q field https.params %q: %w", obj, sb.GetParams(), err)
		}
	default:
		return nil, fmt.Errorf("GslbRecord %q field type: %q is not A, AAAA or HTTPS", obj, spec.GetType())
	}
	if rec.answers == 0 {
		rec.answers = 1
	}
	if rec.ttl == 0 {
		rec.ttl = zn.ttl
	}
	if rec.policy == v1.Policy_POLICY_UNSPECIFIED {
		rec.policy = v1.Policy_POLICY_NEAREST
	}
	if err := rec.addCandidates(spec, src, opts); err != nil {
		return nil, fmt.Errorf("GslbRecord %q: %w", obj, err)
	}
	for i, ru := range spec.GetResidency() {
		rec.rules = append(rec.rules, compileRule(ru))
		for _, a := range ru.GetAllowed() {
			if !slices.ContainsFunc(rec.cands, func(c candidate) bool { return c.name == a }) && !slices.Contains(rec.missing, a) {
				return nil, fmt.Errorf("GslbRecord %q field residency[%d].allowed: %q is not a candidate of the record", obj, i, a)
			}
		}
	}
	n := ix.node(name, zn)
	if n.find(rec.qtype) != nil {
		return nil, fmt.Errorf("GslbRecord %q: %s %s is already defined", obj, name, typeName(rec.qtype))
	}
	rec.node = n
	ix.addRRset(n, rrset{qtype: rec.qtype, rec: rec})
	return rec, nil
}

// compileRecord gives the record its profile (how it ranks its
// candidates per location class, shared with records that rank alike), its
// answers per record class and bucket, and its ECS scopes.
func (b *builder) compileRecord(rec *record) error {
	var from *record // the record rec was taken from, with the same key
	if live := b.useLive(rec); keyUnchanged(rec, live) {
		rec.key, rec.keyLive = rec.from.key, live
		from = rec.from
	} else {
		b.recordKey(rec, live)
	}
	rec.from = nil
	if ok, err := b.reuse(rec, from); ok || err != nil {
		return err
	}
	b.ix.compiled++
	rec.hashed = rec.policy == v1.Policy_POLICY_WEIGHTED
	for _, c := range rec.cands {
		rec.hashed = rec.hashed || c.dial < 100
	}
	if b.useLive(rec) {
		return b.compileLive(rec)
	}
	prof, err := b.profile(rec)
	if err != nil {
		return err
	}
	rec.prof = prof
	rec.rcs = make([]recordClass, len(prof.preps))
	answers := map[string]*answer{}
	var answered []int
	for i := range rec.rcs {
		rc := &rec.rcs[i]
		n := 1
		if rec.hashed {
			n = Buckets
		}
		varies := false
		for bucket := range n {
			var addrs []netip.Addr
			var host string
			addrs, host, answered = rec.finish(prof.preps[i], bucket, nil, answered)
			a, err := rec.answerFor(prof.preps[i], addrs, host, answered, answers)
			if err != nil {
				return err
			}
			varies = varies || (bucket > 0 && a != rc.answers[0])
			rc.answers = append(rc.answers, a)
		}
		if !varies {
			rc.answers = rc.answers[:1]
		}
	}
	// Record classes that answer the same for every bucket are one block
	// for ECS scope, even when they rank the unanswered candidates apart.
	group := make([]int32, len(rec.rcs))
	groups := map[string]int32{}
	ids := map[*answer]uint32{}
	var key []byte
	for i := range rec.rcs {
		key = key[:0]
		for _, a := range rec.rcs[i].answers {
			id, ok := ids[a]
			if !ok {
				id = uint32(len(ids))
				ids[a] = id
			}
			key = binary.LittleEndian.AppendUint32(key, id)
		}
		k := string(key)
		g, ok := groups[k]
		if !ok {
			g = int32(len(groups))
			groups[k] = g
		}
		group[i] = g
	}
	rec.locationFree = len(groups) == 1
	if !rec.locationFree {
		if b.dependsOnLocation(rec) {
			rec.scopes = b.scopesFor(prof, group)
		} else {
			rec.placeKey, rec.scopes = b.placeScopesFor(prof, group)
		}
	}
	return nil
}

// answerFor packs (or reuses) the answer for a selection: addresses, or
// the name of a name origin, from the candidates from (see finish).
func (rec *record) answerFor(p prep, addrs []netip.Addr, host string, from []int, seen map[string]*answer) (*answer, error) {
	// The key: rcode, nodata, the number of addresses, each as 16
	// bytes and its length in bits, the host, then the candidates: one
	// address held by two candidates (a load balancer registered as two
	// Origins) is counted for the one it was answered from.
	var kb [128]byte
	k := append(kb[:0], byte(p.rcode), 0)
	if p.nodata {
		k[1] = 1
	}
	k = binaryAppendUvarint(k, uint64(len(addrs)))
	for _, ad := range addrs {
		a16 := ad.As16()
		k = append(append(k, a16[:]...), byte(ad.BitLen()))
	}
	k = append(k, host...)
	for _, i := range from {
		k = binaryAppendUvarint(k, uint64(i))
	}
	if a, ok := seen[string(k)]; ok {
		return a, nil
	}
	key := string(k)
	name := rec.node.name
	var a *answer
	var err error
	switch {
	case p.rcode != 0:
		a, err = pack(name, p.rcode, nil, nil, nil)
	case host != "":
		cname := &dns.CNAME{Hdr: hdr(name, dns.TypeCNAME, rec.ttl), Target: host}
		if a, err = pack(name, dns.RcodeSuccess, []dns.RR{cname}, nil, nil); err != nil {
			return nil, err
		}
		if err := rec.node.zone.signAnswer(a, name, dns.RcodeSuccess, []dns.RR{cname}, nil, nil, nil); err != nil {
			return nil, err
		}
		a.cname = true
	case p.nodata || len(addrs) == 0:
		z := rec.node.zone
		neg := *z.soa
		neg.Hdr.Ttl = min(z.soa.Minttl, z.soa.Hdr.Ttl)
		if a, err = pack(name, dns.RcodeSuccess, nil, []dns.RR{&neg}, nil); err == nil {
			// The SOA is the last record: its serial is followed by
			// refresh, retry, expire and minimum.
			a.serialAt = len(a.msg) - 20
			err = z.signAnswer(a, name, dns.RcodeSuccess, nil, []dns.RR{&neg}, nil, z.denial(rec.node, rec.qtype))
		}
	default:
		rrs := make([]dns.RR, len(addrs))
		for i, ad := range addrs {
			rrs[i] = addrRR(name, rec.ttl, ad)
		}
		if rec.qtype == dns.TypeHTTPS {
			rrs = []dns.RR{rec.httpsRR(addrs)}
		}
		if a, err = pack(name, dns.RcodeSuccess, rrs, nil, nil); err != nil {
			return nil, err
		}
		if err := rec.node.zone.signAnswer(a, name, dns.RcodeSuccess, rrs, nil, nil, nil); err != nil {
			return nil, err
		}
		a.addrs = addrs
	}
	if err != nil {
		return nil, err
	}
	for _, i := range from {
		if s := rec.cands[i].slot; !slices.Contains(a.slots, s) {
			a.slots = append(a.slots, s)
		}
	}
	seen[key] = a
	return a, nil
}
