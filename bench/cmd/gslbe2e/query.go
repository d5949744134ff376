//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// answer is what one UDP answer says of the name asked.
type answer struct {
	at    time.Time
	rcode int
	ttl   uint32
	addrs []string
}

func (a answer) String() string {
	return fmt.Sprintf("%s TTL %d %v", dns.RcodeToString[a.rcode], a.ttl, a.addrs)
}

// resolver asks the server one name of type A with a fixed EDNS Client
// Subnet, over UDP.
type resolver struct {
	server string
	msg    *dns.Msg
	client *dns.Client
}

func newResolver(server, name string, ecs netip.Prefix) *resolver {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.RecursionDesired = false
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(1232)
	family := uint16(1)
	if ecs.Addr().Is6() {
		family = 2
	}
	o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family,
		SourceNetmask: uint8(ecs.Bits()), Address: net.IP(ecs.Addr().AsSlice())})
	m.Extra = append(m.Extra, o)
	return &resolver{server: server, msg: m, client: &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}}
}

// ask sends the query once.
func (r *resolver) ask() (answer, error) {
	m := r.msg.Copy()
	m.Id = dns.Id()
	in, _, err := r.client.Exchange(m, r.server)
	now := time.Now()
	if err != nil {
		return answer{at: now}, err
	}
	a := answer{at: now, rcode: in.Rcode}
	for _, rr := range in.Answer {
		if x, ok := rr.(*dns.A); ok {
			a.ttl = x.Hdr.Ttl
			a.addrs = append(a.addrs, x.A.String())
		}
	}
	slices.Sort(a.addrs)
	return a, nil
}

// await asks every interval until an answer satisfies ok, and returns it;
// it gives up after limit, returning the last answer with an error.
func (r *resolver) await(ctx context.Context, interval, limit time.Duration, ok func(answer) bool) (answer, error) {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(interval)
	defer t.Stop()
	var last answer
	var lastErr error
	for {
		a, err := r.ask()
		if err == nil && ok(a) {
			return a, nil
		}
		last, lastErr = a, err
		if time.Now().After(deadline) {
			return last, fmt.Errorf("no answer as awaited within %s: last %v (err %v)", limit, last, lastErr)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
		}
	}
}
