//go:build linux

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// server is a real dnsgslb server on loopback.
type server struct {
	s    *dnsgslb.Server
	stop context.CancelFunc
	ran  chan error
}

// startServer measures the server's cold start the way the daemon starts:
// New (which names the GeoIP database and starts reading it), Run, then
// Update with the snapshot (as from the controller), until a real UDP
// query gets an answer. With snap nil it measures a restart instead: New
// finds the snapshot and prefix table persisted in stateDir. It prints
// each step as it finishes.
// keyDir is the DNSSEC key directory (empty: nothing signed).
func startServer(dbPath, stateDir, keyDir string, snap *v1.GslbSnapshot, q *dns.Msg, timeout time.Duration) (*server, error) {
	srv := &server{ran: make(chan error, 1)}
	start, cpu0 := time.Now(), cpuTime()
	deadline := start.Add(timeout)
	what := "New"
	if snap == nil {
		what = "New (loads the state)"
	}
	t, err := timed(timeout, func() error {
		var err error
		srv.s, err = dnsgslb.New(dnsgslb.Config{
			Listen:          "127.0.0.1:0",
			GeoIPPath:       dbPath,
			StateDir:        stateDir,
			DNSSECKeyDir:    keyDir,
			DefaultLocation: dnsgslb.Location{Latitude: 39, Longitude: -77, Country: "US", Continent: "NA"},
			Logger:          slog.New(slog.DiscardHandler),
		})
		return err
	})
	fmt.Printf("  %-24s %s\n", what, t)
	if err != nil || !t.done {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	srv.stop = stop
	go func() { srv.ran <- srv.s.Run(ctx) }()
	select {
	case <-srv.s.Ready():
	case err := <-srv.ran:
		return nil, fmt.Errorf("server run: %w", err)
	case <-time.After(time.Until(deadline)):
		srv.close()
		return nil, fmt.Errorf("server not listening %s after start", timeout)
	}
	if snap != nil {
		t, err = timed(time.Until(deadline), func() error { return srv.s.Update(snap) })
		fmt.Printf("  %-24s %s\n", "Update (compiles)", t)
		if err != nil || !t.done {
			srv.close()
			return nil, err
		}
	}
	udp, _ := srv.s.Addr()
	for {
		reply, err := exchange(q, udp, 200*time.Millisecond)
		if err == nil {
			fmt.Printf("  %-24s %s after start (CPU %s): %s\n", "first answer",
				dur(time.Since(start)), dur(cpuTime()-cpu0), describe(reply))
			return srv, nil
		}
		if time.Now().After(deadline) {
			srv.close()
			return nil, fmt.Errorf("no answer from %s within %s: %w", udp, timeout, err)
		}
	}
}

// update times the server's Update with a changed snapshot, as when the
// controller sends the next revision.
func (srv *server) update(snap *v1.GslbSnapshot, timeout time.Duration) (timing, error) {
	return timed(timeout, func() error { return srv.s.Update(snap) })
}

// close stops the server and waits for Run to return; again, it does
// nothing.
func (srv *server) close() {
	if srv.stop != nil {
		srv.stop()
		<-srv.ran
		srv.stop = nil
	}
}

// query is an A question for name with an EDNS client subnet, and the DO
// bit if do.
func query(name string, ecs netip.Prefix, do bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.RecursionDesired = false
	m.SetEdns0(1232, do)
	fam := uint16(1)
	if ecs.Addr().Is6() {
		fam = 2
	}
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{
		Code: dns.EDNS0SUBNET, Family: fam, SourceNetmask: uint8(ecs.Bits()), Address: ecs.Addr().AsSlice(),
	})
	return m
}

func exchange(q *dns.Msg, addr net.Addr, timeout time.Duration) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: timeout}
	reply, _, err := c.Exchange(q, addr.String())
	return reply, err
}

// describe is the reply's rcode, answers and ECS scope on one line.
func describe(m *dns.Msg) string {
	var parts []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			parts = append(parts, rr.A.String())
		case *dns.AAAA:
			parts = append(parts, rr.AAAA.String())
		case *dns.RRSIG:
			parts = append(parts, fmt.Sprintf("RRSIG(%s, key %d, until %s)", dns.TypeToString[rr.TypeCovered], rr.KeyTag,
				time.Unix(int64(rr.Expiration), 0).UTC().Format(time.DateOnly)))
		}
	}
	s := dns.RcodeToString[m.Rcode] + " " + strings.Join(parts, " ")
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if e, ok := opt.(*dns.EDNS0_SUBNET); ok {
				s += fmt.Sprintf(" (ECS scope /%d)", e.SourceScope)
			}
		}
	}
	return s
}

// downOrigin is the first origin of snap marked down.
func downOrigin(snap *v1.GslbSnapshot) *v1.SnapshotOrigin {
	for _, o := range snap.GetOrigins() {
		if !o.GetHealthy() {
			return o
		}
	}
	return nil
}

// probe finds a question, like q (its client subnet and DO bit), whose
// answer from the server names an address of origin: the records naming
// the origin are asked, failover records with it first before the others.
// It returns nil when none does.
func probe(srv *server, snap *v1.GslbSnapshot, origin *v1.SnapshotOrigin, q *dns.Msg) (*dns.Msg, []string) {
	if origin == nil {
		return nil, nil
	}
	addrs := origin.GetSpec().GetAddresses()
	var first, rest []*v1.GslbRecord
	for _, r := range snap.GetRecords() {
		spec := r.GetSpec()
		switch {
		case spec.GetType() != v1.RecordType_RECORD_TYPE_A && spec.GetType() != v1.RecordType_RECORD_TYPE_AAAA:
		case spec.GetPolicy() == v1.Policy_POLICY_FAILOVER && len(spec.GetOrigins()) > 1 && spec.GetOrigins()[0] == origin.GetName():
			first = append(first, r)
		case slices.Contains(spec.GetOrigins(), origin.GetName()):
			rest = append(rest, r)
		}
	}
	udp, _ := srv.s.Addr()
	for _, r := range append(first, rest...) {
		pq := q.Copy()
		pq.Question[0].Name = recordName(snap, r)
		pq.Question[0].Qtype = dns.TypeA
		if r.GetSpec().GetType() == v1.RecordType_RECORD_TYPE_AAAA {
			pq.Question[0].Qtype = dns.TypeAAAA
		}
		if reply, err := exchange(pq, udp, time.Second); err == nil && names(reply, addrs) {
			return pq, addrs
		}
	}
	return nil, nil
}

// names reports whether an answer holds one of addrs.
func names(m *dns.Msg, addrs []string) bool {
	for _, rr := range m.Answer {
		var a netip.Addr
		switch rr := rr.(type) {
		case *dns.A:
			a, _ = netip.AddrFromSlice(rr.A.To4())
		case *dns.AAAA:
			a, _ = netip.AddrFromSlice(rr.AAAA)
		}
		for _, s := range addrs {
			if b, err := netip.ParseAddr(s); err == nil && a == b {
				return true
			}
		}
	}
	return false
}

// signed reports whether an answer section has an RRSIG.
func signed(m *dns.Msg) bool {
	return slices.ContainsFunc(m.Answer, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeRRSIG })
}

// updateUntil times Update with snap, and how long after its call the
// answer to q (with pq nil, nothing) no longer names addrs and, if
// wantSigned, carries an RRSIG: q is asked over UDP every millisecond from
// the call on. reached says when, and the answer.
func (srv *server) updateUntil(snap *v1.GslbSnapshot, q *dns.Msg, addrs []string, wantSigned bool, timeout time.Duration) (t timing, reached string, err error) {
	if q == nil {
		t, err = srv.update(snap, timeout)
		return t, "no answer names the origin that goes down: not timed (try another -ecs)", err
	}
	udp, _ := srv.s.Addr()
	start := time.Now()
	seen := make(chan string, 1)
	stop := make(chan struct{})
	go func() {
		for {
			reply, err := exchange(q, udp, 200*time.Millisecond)
			if err == nil && !names(reply, addrs) && (!wantSigned || signed(reply)) {
				seen <- fmt.Sprintf("%s after the Update call: %s %s %s", dur(time.Since(start)), q.Question[0].Name, dns.TypeToString[q.Question[0].Qtype], describe(reply))
				return
			}
			select {
			case <-stop:
				seen <- "not seen before the timeout"
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	t, err = srv.update(snap, timeout)
	if err != nil || !t.done {
		close(stop)
		return t, <-seen, err
	}
	select {
	case reached = <-seen:
	case <-time.After(time.Until(start.Add(timeout))):
		close(stop)
		reached = <-seen
	}
	return t, reached, err
}
