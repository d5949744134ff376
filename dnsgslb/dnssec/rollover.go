package dnssec

import (
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// A key rollover is a change of timing in the zone's key files: the
// server follows the files to the second, so the steps that need nobody
// (publish, switch, retire) are scheduled when the rollover starts, and
// the one that needs the parent zone (its DS RRset) waits for the
// operator to say the parent serves the new DS. Times follow RFC 7583:
//
//   - ZSK, pre-publish: the successor is published now and signs once
//     every resolver that cached the DNSKEY RRset before it holds the
//     new one (propagation + DNSKEY TTL); the predecessor stops signing
//     then and leaves the DNSKEY RRset once every signature it made has
//     left the caches (propagation + the largest TTL). The server signs
//     everything again when a key starts or stops signing, so no
//     signature of the predecessor is served after the switch, whatever
//     the signature validity.
//   - KSK or CSK, double DS: the successor is published now and signs
//     nothing; its DS is added to the parent beside the old one. Once the
//     parent serves both (DSPublished), the successor signs after every
//     resolver holding the old DS RRset has dropped it (propagation + DS
//     TTL) and after the DNSKEY TTL from its publication; the
//     predecessor stops signing then. The old DS may be removed from the
//     parent once no resolver holds a DNSKEY RRset signed by the
//     predecessor alone (switch + propagation + DNSKEY TTL), and the
//     predecessor leaves the DNSKEY RRset then, or, for a CSK, once its
//     signatures over the zone's data have left the caches.

// RolloverTTLs are the durations a rollover's timing is computed from.
type RolloverTTLs struct {
	// DNSKEY is the TTL of the zone's DNSKEY RRset (the zone's default
	// TTL).
	DNSKEY time.Duration
	// Max is the largest TTL of a signed RRset in the zone, negative
	// answers (the SOA minimum) included.
	Max time.Duration
	// DS is the TTL of the zone's DS RRset in the parent zone.
	DS time.Duration
	// Propagation is how long a change takes to reach every DNS server
	// of the zone: key files copied to each, clocks apart, the parent's
	// servers for a DS.
	Propagation time.Duration
}

// Check says which duration is unusable, by flag-like name.
func (t RolloverTTLs) Check() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"dnskey-ttl", t.DNSKEY}, {"max-ttl", t.Max}, {"ds-ttl", t.DS}, {"propagation", t.Propagation}} {
		if f.d < 0 {
			return fmt.Errorf("%s %v: want a duration of zero or more", f.name, f.d)
		}
	}
	return nil
}

// Rollover is a rollover's plan: the successor key and the keys it
// replaces, with the timing each has been given.
type Rollover struct {
	Role        Role
	Successor   *Key
	Predecessor []*Key
}

// rolling are the keys of role in keys that sign at now and have no end
// of signing set: the keys a rollover of role replaces.
func rolling(keys []*Key, role Role, now time.Time) []*Key {
	var out []*Key
	for _, k := range keys {
		if k.Role == role && k.Inactive.IsZero() && k.Delete.IsZero() && k.Active(now) {
			out = append(out, k)
		}
	}
	return out
}

// pending is the key of role in keys published for a rollover and not yet
// given an activation time, if any; a key to be revoked is none.
func pending(keys []*Key, role Role) *Key {
	for _, k := range keys {
		if k.Role == role && k.Activate.IsZero() && !k.Publish.IsZero() && k.Delete.IsZero() && k.Revoke.IsZero() && k.DNSKEY.Flags&dns.REVOKE == 0 {
			return k
		}
	}
	return nil
}

// StartRollover generates, in dir, the successor of zone's signing keys of
// role (keys are the zone's keys as LoadDir read them), with their
// algorithm, and writes the rollover's timing to the key files. For a
// ZSK the whole rollover is scheduled; for a KSK or CSK the successor is
// published and waits for DSPublished. It refuses a zone with no key of
// role to replace, or a rollover of role already under way.
func StartRollover(dir, zone string, keys []*Key, role Role, ttls RolloverTTLs, now time.Time) (*Rollover, error) {
	zone = dns.CanonicalName(zone)
	if err := ttls.Check(); err != nil {
		return nil, err
	}
	// The DS may reach the parent from now; the key is published from
	// the next whole second.
	dsFrom := now.UTC().Truncate(time.Second)
	now = ceilSecond(now)
	for _, k := range keys {
		if k.Role == role && (k.Activate.After(now) || k == pending([]*Key{k}, role)) {
			return nil, fmt.Errorf("zone %q: a %s rollover is under way: key %d is published and not yet signing (%s)", zone, role, k.Tag(), k.File)
		}
	}
	old := rolling(keys, role, now)
	if len(old) == 0 {
		return nil, fmt.Errorf("zone %q: no %s to roll over (a key of that role, signing, with no inactive or delete time): anyctl dnssec list shows the keys", zone, role)
	}
	next, err := Generate(dir, zone, old[0].DNSKEY.Algorithm, role, now)
	if err != nil {
		return nil, err
	}
	r := &Rollover{Role: role, Successor: next, Predecessor: old}
	t := next.Timing
	t.Publish, t.Activate = now, time.Time{}
	if role == ZSK {
		t.Activate = now.Add(ttls.Propagation + ttls.DNSKEY)
		if err := next.SetTiming(t); err != nil {
			return nil, err
		}
		return r, r.retire(t.Activate, ttls)
	}
	t.SyncPublish = dsFrom
	return r, next.SetTiming(t)
}

// ceilSecond is t rounded up to a whole second: key files time to the
// second, and a time rounded down would take up to a second from the
// propagation delay.
func ceilSecond(t time.Time) time.Time {
	if u := t.UTC().Truncate(time.Second); u.Before(t) {
		return u.Add(time.Second)
	}
	return t.UTC()
}

// DSPublished schedules the rest of a KSK or CSK rollover once the parent
// serves the successor's DS (beside the old one) at seen: the switch of
// signing keys and the predecessor's retirement, and when its DS may
// leave the parent (SyncDelete). tag picks the successor among zone's
// keys when more than one waits; 0 takes the only one.
func DSPublished(zone string, keys []*Key, tag uint16, ttls RolloverTTLs, seen time.Time) (*Rollover, error) {
	zone = dns.CanonicalName(zone)
	if err := ttls.Check(); err != nil {
		return nil, err
	}
	seen = ceilSecond(seen)
	var next *Key
	for _, role := range []Role{KSK, CSK} {
		k := pending(keys, role)
		if k == nil || (tag != 0 && k.Tag() != tag) {
			continue
		}
		if next != nil {
			return nil, fmt.Errorf("zone %q: keys %d and %d both wait for their DS: name one with --key", zone, next.Tag(), k.Tag())
		}
		next = k
	}
	if next == nil {
		what := "no key waits for its DS"
		if tag != 0 {
			what = fmt.Sprintf("key %d does not wait for its DS (a KSK or CSK published, with no activation time)", tag)
		}
		return nil, fmt.Errorf("zone %q: %s: anyctl dnssec rollover starts a KSK or CSK rollover", zone, what)
	}
	if !next.Published(seen) {
		return nil, fmt.Errorf("zone %q: key %d is not published yet (from %s)", zone, next.Tag(), next.Publish.Format(time.RFC3339))
	}
	var old []*Key
	for _, k := range rolling(keys, next.Role, seen) {
		if k != next {
			old = append(old, k)
		}
	}
	r := &Rollover{Role: next.Role, Successor: next, Predecessor: old}
	switchAt := seen.Add(ttls.Propagation + ttls.DS)
	if pub := next.Publish.Add(ttls.Propagation + ttls.DNSKEY); pub.After(switchAt) {
		switchAt = pub
	}
	t := next.Timing
	t.Activate = switchAt
	if t.SyncPublish.IsZero() {
		t.SyncPublish = seen
	}
	if err := next.SetTiming(t); err != nil {
		return nil, err
	}
	return r, r.retire(switchAt, ttls)
}

// retire writes the predecessors' end: they stop signing at switchAt and
// leave the zone (and the parent, for their DS) once nothing cached needs
// them.
func (r *Rollover) retire(switchAt time.Time, ttls RolloverTTLs) error {
	for _, k := range r.Predecessor {
		t := k.Timing
		if t.untimed() {
			// Published and signing since before timing: say so, or the
			// times set below would leave it unpublished.
			t.Publish, t.Activate = time.Unix(0, 0).UTC(), time.Unix(0, 0).UTC()
		}
		t.Inactive = switchAt
		switch r.Role {
		case ZSK:
			t.Delete = switchAt.Add(ttls.Propagation + ttls.Max)
		case KSK:
			t.SyncDelete = switchAt.Add(ttls.Propagation + ttls.DNSKEY)
			t.Delete = t.SyncDelete
		case CSK:
			t.SyncDelete = switchAt.Add(ttls.Propagation + ttls.DNSKEY)
			t.Delete = switchAt.Add(ttls.Propagation + max(ttls.DNSKEY, ttls.Max))
		}
		if err := k.SetTiming(t); err != nil {
			return err
		}
	}
	return nil
}

// DSState is what the parent zone should do with a key's DS at now.
type DSState int

const (
	// DSNone: the key has no DS (a ZSK) or it is not due yet.
	DSNone DSState = iota
	// DSHold: the parent should serve the DS now.
	DSHold
	// DSRemove: the DS should leave the parent.
	DSRemove
)

// DSStateAt says what the parent should do with the key's DS at now: hold
// it from its publication (or SyncPublish) until SyncDelete, until the
// key is revoked (its DS then matches no DNSKEY served: the flags are in
// the digest) or until it is deleted; remove it after.
func (k *Key) DSStateAt(now time.Time) DSState {
	switch {
	case k.Role == ZSK:
		return DSNone
	case !k.SyncDelete.IsZero() && !now.Before(k.SyncDelete), !k.Delete.IsZero() && !now.Before(k.Delete), k.Revoked(now):
		return DSRemove
	case !k.SyncPublish.IsZero():
		if now.Before(k.SyncPublish) {
			return DSNone
		}
		return DSHold
	case k.Published(now):
		return DSHold
	}
	return DSNone
}
