package index

import (
	"fmt"
	"strings"
)

// A record whose inputs did not change compiles to what it compiled to
// before: its profile, answers, scopes or live form are taken from the
// previous index rather than built again. A TTL changed or one origin's
// health flipped then costs the records it touches, not every record.

// recordKey sums up everything a record's compiled form is made from,
// beside the prefix table (reuse needs the same table) and, for a live
// record, the row table (compared by identity): its ranking inputs (the
// profile key), its name, type, TTL, answer count and HTTPS parameters,
// its candidates' addresses, names, weights, dials and metrics slots, and
// its zone's SOA.
func (b *builder) recordKey(rec *record, live bool) string {
	var sb strings.Builder
	sb.WriteString(profileKey(rec, b.rttSig))
	fmt.Fprintf(&sb, "#%s/%d/%d/%d/%t/%s/%v#", rec.node.name, rec.qtype, rec.ttl, rec.answers, live, rec.node.zone.soa, rec.https)
	for _, c := range rec.cands {
		fmt.Fprintf(&sb, "%v/%s/%d/%d/%d|", c.addrs, c.host, c.weight, c.dial, c.slot)
	}
	return sb.String()
}

// reuse gives rec the compiled form of the previous index's record with
// the same key, and reports whether there was one it can take. A record
// left without scope tables (by the budget, or built quick) is compiled
// again, for a chance at them.
func (b *builder) reuse(rec *record, key string) (bool, error) {
	old := b.prevRecords[key]
	if old == nil {
		return false, nil
	}
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
	if rec.prof != nil {
		b.ix.profiles[profileKey(rec, b.rttSig)] = rec.prof
		switch {
		case rec.placeKey != "":
			b.keepPlaceScopes(rec.placeKey, rec.scopes)
		case rec.scopes[0] != nil:
			b.countScopes(rec.prof)
		}
	}
	return true, nil
}
