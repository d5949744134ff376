package controller

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// dnsServers are the DNS servers streaming this replica's GSLB feed, for
// anyctl status: who they are, whether one refused its persisted
// snapshot at start or rejects the snapshot it was sent, the DNSKEY
// RRsets each answers, and when this
// replica last confirmed its state to each. Each replica knows its own
// subscribers only.
type dnsServers struct {
	mu   sync.Mutex // guards subs and next, and every dnsSub's confirmed
	subs map[int]*dnsSub
	next int
	// every is the replica's confirmation interval (0: it confirms
	// nothing).
	every time.Duration
}

// dnsSub is one subscriber.
type dnsSub struct {
	d     *dnsServers
	id    int
	since time.Time
	// entry is what the server said when it subscribed; not modified.
	entry *v1.DnsServerEntry
	// confirmed is the confirmation last sent; zero before the first.
	confirmed time.Time
}

// add records a subscriber; remove forgets it.
func (d *dnsServers) add(req *v1.SubscribeRequest, addr string, now time.Time) *dnsSub {
	e := &v1.DnsServerEntry{Name: req.GetServerName(), Address: addr, Since: timestamppb.New(now),
		PersistedSnapshotRefused: req.GetPersistedSnapshotRefused(), DnssecKeySets: req.GetDnssecKeySets(),
		SnapshotRejected: req.GetSnapshotRejected()}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.subs == nil {
		d.subs = map[int]*dnsSub{}
	}
	s := &dnsSub{d: d, id: d.next, since: now, entry: e}
	d.next++
	d.subs[s.id] = s
	return s
}

func (s *dnsSub) remove() {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	delete(s.d.subs, s.id)
}

// sent records a confirmation sent to the subscriber.
func (s *dnsSub) sent(c confirmation) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.confirmed = c.at
}

// list is the subscribers by name, then address, as of now.
func (d *dnsServers) list(now time.Time) []*v1.DnsServerEntry {
	d.mu.Lock()
	out := make([]*v1.DnsServerEntry, 0, len(d.subs))
	for _, s := range d.subs {
		e := &v1.DnsServerEntry{Name: s.entry.Name, Address: s.entry.Address, Since: s.entry.Since,
			PersistedSnapshotRefused: s.entry.PersistedSnapshotRefused, DnssecKeySets: s.entry.DnssecKeySets,
			SnapshotRejected: s.entry.SnapshotRejected}
		from := s.since
		if !s.confirmed.IsZero() {
			e.ConfirmedAt = timestamppb.New(s.confirmed)
			from = s.confirmed
		}
		if age := now.Sub(from); d.every > 0 && age > 3*d.every {
			what := "no confirmation that this replica's state is current"
			if !s.confirmed.IsZero() {
				what = "its last confirmation that this replica's state is current"
			}
			e.Unconfirmed = fmt.Sprintf("%s for %s: it leaves this replica for another after its --feed-stale-after, or later while no replica confirms", what, age.Round(time.Second))
		}
		out = append(out, e)
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b *v1.DnsServerEntry) int {
		return cmp.Or(cmp.Compare(a.GetName(), b.GetName()), cmp.Compare(a.GetAddress(), b.GetAddress()))
	})
	return out
}
