package controller

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// dnsServers are the DNS servers streaming this replica's GSLB feed, for
// anyctl status: who they are, whether one refused its persisted
// snapshot at start, and the DNSKEY RRsets each answers. Each replica
// knows its own subscribers only.
type dnsServers struct {
	mu   sync.Mutex // guards subs and next
	subs map[int]*v1.DnsServerEntry
	next int
}

// add records a subscriber and returns what removes it.
func (d *dnsServers) add(req *v1.SubscribeRequest, addr string, now time.Time) (remove func()) {
	e := &v1.DnsServerEntry{Name: req.GetServerName(), Address: addr, Since: timestamppb.New(now),
		PersistedSnapshotRefused: req.GetPersistedSnapshotRefused(), DnssecKeySets: req.GetDnssecKeySets()}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.subs == nil {
		d.subs = map[int]*v1.DnsServerEntry{}
	}
	id := d.next
	d.next++
	d.subs[id] = e
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		delete(d.subs, id)
	}
}

// list is the subscribers by name, then address.
func (d *dnsServers) list() []*v1.DnsServerEntry {
	d.mu.Lock()
	out := make([]*v1.DnsServerEntry, 0, len(d.subs))
	for _, e := range d.subs {
		out = append(out, e)
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b *v1.DnsServerEntry) int {
		return cmp.Or(cmp.Compare(a.GetName(), b.GetName()), cmp.Compare(a.GetAddress(), b.GetAddress()))
	})
	return out
}
