package index

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// candidate is one origin or PoP a record may answer with.
type candidate struct {
	name string
	// pop is true for a PoP's unicast addresses (hybrid mode).
	pop      bool
	location geo.Location
	// addrs are the candidate's addresses of the record's family (both
	// families for an HTTPS record).
	addrs []netip.Addr
	// host is the DNS name of a name origin (a cloud load balancer),
	// answered with a CNAME to it; it has no addrs.
	host         string
	weight       int
	dial         int
	healthy      bool
	healthReason string
	// slot is the candidate's metrics slot.
	slot int
}

// usable reports whether the candidate has something to answer with.
func (c *candidate) usable() bool { return len(c.addrs) > 0 || c.host != "" }

func (c *candidate) kind() string {
	if c.pop {
		return "pop"
	}
	return "origin"
}

// client is what selection knows about the asker: its location class.
type client struct {
	class geo.Class
	// at is the class's location on the sphere, for ranking by distance.
	at geo.Point
	// rtt is the asking PoP's measured RTT to origins; nil when the client
	// is not an in-service PoP.
	rtt map[string]time.Duration
}

// popSignature sums up what clientFor reads of the PoPs: which are in
// service and their measured RTTs.
func popSignature(pops map[string]*v1.SnapshotPop) string {
	names := slices.Sorted(maps.Keys(pops))
	var b []byte
	for _, name := range names {
		p := pops[name]
		if !p.GetInService() {
			continue
		}
		b = append(b, name...)
		for _, o := range slices.Sorted(maps.Keys(p.GetRtt())) {
			b = append(b, ',')
			b = append(b, o...)
			b = append(b, '=')
			b = strconv.AppendInt(b, int64(p.GetRtt()[o].AsDuration()), 10)
		}
		b = append(b, ';')
	}
	return string(b)
}

// clientFor describes a location class as a selection client.
func clientFor(c geo.Class, pops map[string]*v1.SnapshotPop) client {
	cl := client{class: c, at: c.Location.Point()}
	if p := pops[c.Pop]; p != nil && p.GetInService() {
		for name, d := range p.GetRtt() {
			if cl.rtt == nil {
				cl.rtt = map[string]time.Duration{}
			}
			cl.rtt[name] = d.AsDuration()
		}
	}
	return cl
}
