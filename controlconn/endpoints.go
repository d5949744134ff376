package controlconn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/anyctl/anyctl/endpoint"
)

// ParseList splits a comma-separated list of controller addresses (each
// host:port or unix:PATH), as --controller takes it. Blank entries are
// skipped; an entry that is no address is an error naming it.
func ParseList(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	for _, a := range out {
		if err := endpoint.Check(a); err != nil {
			if len(out) == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("controller address %q: %w", a, err)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("want host:port or unix:PATH (several separated by commas)")
	}
	return out, nil
}

// Target is one address to dial: a controller replica.
type Target struct {
	// Addr is what gRPC dials: an IP address and port, or unix:PATH.
	Addr string
	// Authority is the configured address when Addr was resolved from a
	// DNS name: the :authority the controller sees and the name its TLS
	// certificate is checked against. Empty when Addr is the configured
	// address itself.
	Authority string
}

// String names the target in logs: the address, and the name it was
// resolved from.
func (t Target) String() string {
	if t.Authority == "" {
		return t.Addr
	}
	return t.Addr + " (" + t.Authority + ")"
}

// Rotation hands out the controller replicas a client dials in turn: every
// address of every configured endpoint, a DNS name expanded to each address
// it resolves to. Each round goes through them all in an order of its
// own, shuffled, and resolves the names again first, so that replicas
// added to or removed from a name are seen. A client moves to the next
// target whenever its stream breaks: a replica that died, or that ended
// the stream because it lost etcd, is left for the next one. As every
// client's order is its own, the clients of a replica that goes spread
// over the others, rather than all moving to the one after it (through a
// rolling restart, the whole fleet would end up on one replica).
type Rotation struct {
	lookup func(ctx context.Context, host string) ([]string, error)

	mu sync.Mutex // guards the fields below
	// configured are the addresses as given.
	configured []string
	// round is the current round's targets; next indexes the one to hand
	// out next.
	round []Target
	next  int
}

// NewRotation returns a rotation over addrs (each host:port or unix:PATH).
func NewRotation(addrs []string) *Rotation {
	return &Rotation{configured: slices.Clone(addrs), lookup: net.DefaultResolver.LookupHost}
}

// Next returns the target to dial next. When the round is over it resolves
// the configured names again and shuffles them; a name that does not
// resolve is dialled as given, so that gRPC reports why.
func (r *Rotation) Next(ctx context.Context) Target {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next >= len(r.round) {
		var last Target
		if len(r.round) > 0 {
			last = r.round[len(r.round)-1]
		}
		r.round = r.resolveLocked(ctx)
		r.next = 0
		rand.Shuffle(len(r.round), func(i, j int) { r.round[i], r.round[j] = r.round[j], r.round[i] })
		// The target just left is not tried again first.
		if len(r.round) > 1 && r.round[0] == last {
			k := 1 + rand.IntN(len(r.round)-1)
			r.round[0], r.round[k] = r.round[k], r.round[0]
		}
	}
	t := r.round[r.next]
	r.next++
	return t
}

// Len returns how many targets the current round has (the configured
// addresses before the first Next).
func (r *Rotation) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.round) == 0 {
		return len(r.configured)
	}
	return len(r.round)
}

// resolveLocked expands the configured addresses into targets, keeping
// their order and dropping duplicates.
func (r *Rotation) resolveLocked(ctx context.Context) []Target {
	var out []Target
	seen := map[string]bool{}
	add := func(t Target) {
		if !seen[t.Addr] {
			seen[t.Addr] = true
			out = append(out, t)
		}
	}
	for _, a := range r.configured {
		for _, t := range r.expand(ctx, a) {
			add(t)
		}
	}
	return out
}

// expand resolves one configured address: an IP address or unix:PATH is
// its own target; a name becomes one target per address.
func (r *Rotation) expand(ctx context.Context, addr string) []Target {
	if strings.HasPrefix(addr, "unix:") {
		return []Target{{Addr: addr}}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []Target{{Addr: addr}}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return []Target{{Addr: addr}}
	}
	ips, err := r.lookup(ctx, host)
	if err != nil || len(ips) == 0 {
		return []Target{{Addr: addr}}
	}
	out := make([]Target, 0, len(ips))
	for _, ip := range ips {
		out = append(out, Target{Addr: net.JoinHostPort(ip, port), Authority: addr})
	}
	return out
}
