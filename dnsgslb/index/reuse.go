package index

import (
	"slices"
	"strconv"

	"github.com/miekg/dns"
)

// A record whose inputs did not change compiles to what it compiled to
// before: its profile, answers, scopes or live form are taken from the
// previous index rather than built again. A TTL changed or one origin's
// health flipped then costs the records it touches, not every record.

// recordKey sets rec.key: everything a record's compiled form is made
// from, beside the prefix table (reuse needs the same table) and, for a
// live record, the row table (compared by identity): its ranking inputs
// (the profile key), its name, type, TTL, answer count and HTTPS
// parameters, its candidates' addresses, names, weights, dials and metrics
// slots, and its zone's SOA but for the serial (reuse puts the new one
// in). A key
// the previous build also had is taken from its record, so that an update
// allocates no key for a record that did not change.
func (b *builder) recordKey(rec *record, live bool) {
	k := append(b.scratch[:0], rec.profKey...)
	k = append(k, '#')
	k = append(k, rec.node.name...)
	for _, n := range [...]uint64{uint64(rec.qtype), uint64(rec.ttl), uint64(rec.answers)} {
		k = append(k, '/')
		k = strconv.AppendUint(k, n, 10)
	}
	k = append(k, '/')
	k = strconv.AppendBool(k, live)
	if rec.https != nil {
		k = append(k, '/')
		k = append(k, rec.https.String()...)
	}
	soa := rec.node.zone.soa
	k = append(k, '/')
	k = append(k, soa.Ns...)
	k = append(k, '/')
	k = append(k, soa.Mbox...)
	for _, n := range [...]uint32{soa.Hdr.Ttl, soa.Refresh, soa.Retry, soa.Expire, soa.Minttl} {
		k = append(k, '/')
		k = strconv.AppendUint(k, uint64(n), 10)
	}
	if zs := rec.node.zone.signing; zs != nil {
		k = append(k, '/')
		k = append(k, zs.id...)
	}
	k = append(k, '#')
	for _, c := range rec.cands {
		for _, a := range c.addrs {
			k = a.AppendTo(k)
			k = append(k, ',')
		}
		k = append(k, c.host...)
		for _, n := range [...]int{c.weight, c.dial, c.slot} {
			k = append(k, '/')
			k = strconv.AppendInt(k, int64(n), 10)
		}
		k = append(k, '|')
	}
	b.scratch = k
	rec.keyLive = live
	if old := b.prevAt(rec); old != nil && old.key == string(k) {
		rec.key = old.key
		return
	}
	rec.key = string(k)
}

// prevAt returns the GslbRecord of rec's name and type in the previous
// index when that was built against the same prefix table, or nil. A
// record key holds the record's name and type, so the previous index's
// record with rec's key, if any, is that one: it is found at its node,
// without a map of every record by key, which an update would build
// anew, hashing thousands of long keys into it.
func (b *builder) prevAt(rec *record) *record {
	p := b.sameTable
	if p == nil {
		return nil
	}
	n := p.names[rec.node.key]
	if n == nil {
		return nil
	}
	if rs := n.find(rec.qtype); rs != nil {
		return rs.rec
	}
	return nil
}

// reuse gives rec the compiled form of the previous index's record with
// the same key, and reports whether there was one it can take. A record
// left without scope tables (by the budget, or built quick) is compiled
// again, for a chance at them. from, if not nil, is a record of the
// previous index with rec's key (the one rec was taken from as parsed):
// it is tried first, which spares hashing the key.
func (b *builder) reuse(rec *record, from *record) (bool, error) {
	if b.sameTable == nil {
		return false, nil // another prefix table
	}
	if from != nil {
		if ok, err := b.reuseFrom(rec, from); ok || err != nil {
			return ok, err
		}
	}
	old := b.prevAt(rec)
	if old == nil || old == from || old.key != rec.key {
		return false, nil
	}
	return b.reuseFrom(rec, old)
}

// reuseFrom is reuse from old, a record of the previous index with rec's
// key.
func (b *builder) reuseFrom(rec, old *record) (bool, error) {
	if old.live != nil {
		rows, err := b.rowsFor()
		if err != nil {
			return false, err
		}
		if old.live.rows != rows {
			return false, nil
		}
	} else if !old.locationFree && old.scopes[0] == nil && !b.quick {
		return false, nil
	}
	rec.hashed, rec.prof, rec.rcs, rec.live = old.hashed, old.prof, old.rcs, old.live
	rec.scopes, rec.locationFree, rec.placeKey = old.scopes, old.locationFree, old.placeKey
	if z := rec.node.zone; z.signing != nil && (z.soa.Serial != old.node.zone.soa.Serial || !sameDenial(rec, old)) {
		var err error
		if rec.rcs, rec.live, err = withSerial(rec, z.soa.Serial); err != nil {
			return false, err
		}
	}
	if rec.prof != nil {
		b.keepProfile(rec.prof)
		switch {
		case rec.placeKey != "":
			b.keepPlaceScopes(rec.placeKey, rec.scopes)
		case rec.scopes[0] != nil:
			b.countScopes(rec.prof)
		}
	}
	return true, nil
}

// sameDenial reports whether rec's negative answer in a signed zone has
// the NSEC old's has: the next name and the types at the node are the
// zone's, which a record key does not hold. A resolver that uses NSEC
// records aggressively (RFC 8198) would take a stale one as proof that a
// name or type added since does not exist.
func sameDenial(rec, old *record) bool {
	a, b := rec.node.zone.denial(rec.node, rec.qtype), old.node.zone.denial(old.node, old.qtype)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i].(*dns.NSEC), b[i].(*dns.NSEC)
		if x.Hdr.Name != y.Hdr.Name || x.Hdr.Ttl != y.Hdr.Ttl || x.NextDomain != y.NextDomain || !slices.Equal(x.TypeBitMap, y.TypeBitMap) {
			return false
		}
	}
	return true
}

// withSerial is a record's answers in a signed zone with the zone's SOA
// serial changed, or the NSEC of its negative answer (see sameDenial): a
// zone whose serial follows the revision changes it with every update,
// and only the negative answers carry it. Their signed form is made
// again, with the SOA's new RRSIG (the NSEC's is cached) and the zone's
// NSEC. An
// unsigned zone keeps its answers: the serial is written as they are
// served (see answer.appendTo).
func withSerial(rec *record, serial uint32) ([]recordClass, *live, error) {
	rcs, lv := rec.rcs, rec.live
	z := rec.node.zone
	var done map[*answer]*answer
	var err error
	patch := func(a *answer) *answer {
		if a == nil || a.serialAt == 0 {
			return a
		}
		if c, ok := done[a]; ok {
			return c
		}
		c := a.withSerial(serial)
		if z.signing != nil && err == nil {
			neg := *z.soa
			neg.Hdr.Ttl = z.negTTL()
			err = z.signAnswer(c, rec.node.name, dns.RcodeSuccess, nil, []dns.RR{&neg}, nil, z.denial(rec.node, rec.qtype))
		}
		if done == nil {
			done = map[*answer]*answer{}
		}
		done[a] = c
		return c
	}
	if lv != nil {
		c := *lv
		c.nodata = patch(c.nodata)
		lv = &c
	}
	var out []recordClass
	for i, rc := range rcs {
		for j, a := range rc.answers {
			if p := patch(a); p != a {
				if out == nil {
					out = slices.Clone(rcs)
				}
				if &out[i].answers[0] == &rcs[i].answers[0] {
					out[i].answers = slices.Clone(rc.answers)
				}
				out[i].answers[j] = p
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if out == nil {
		return rcs, lv, nil
	}
	return out, lv, nil
}
