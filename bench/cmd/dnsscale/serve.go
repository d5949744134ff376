//go:build linux

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
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
func startServer(dbPath, stateDir string, snap *v1.GslbSnapshot, q *dns.Msg, timeout time.Duration) (*server, error) {
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

// query is an A question for name with an EDNS client subnet.
func query(name string, ecs netip.Prefix) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
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
