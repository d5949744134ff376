package dnsgslb_test

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestEveryPolicyValidates has delv validate the answers of every policy
// (nearest, latency, weighted, failover, a traffic dial, residency, a
// hybrid PoP record) for clients on three continents and at three PoPs,
// placed by ECS, then again after an origin goes down and after a PoP is
// drained: each answer is the one the policy gives that client, and
// "fully validated". It does so with the answers compiled per location
// class and with the records that can be answered live (nearest, latency,
// residency, hybrid) assembled at query time, their RRSIGs made per
// answer RRset.
func TestEveryPolicyValidates(t *testing.T) {
	needDelv(t)
	inBothAnswerModes(t, everyPolicyValidates)
}

func everyPolicyValidates(t *testing.T) {
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	anchor := anchorFile(t, k)
	proxies := map[string]*testServer{}
	from := func(subnet string) *testServer {
		if proxies[subnet] == nil {
			proxies[subnet] = &testServer{udp: ecsProxy(t, ts.udp, subnet)}
		}
		return proxies[subnet]
	}

	type check struct {
		name, qtype, ecs string
		// want is the answer's addresses; empty is NODATA, nil any
		// answer.
		want []string
	}
	validate := func(t *testing.T, c check) string {
		t.Helper()
		out := delv(t, from(c.ecs), anchor, c.name+"."+gslbtest.Zone, c.qtype)
		verdict := "fully validated"
		if c.want != nil && len(c.want) == 0 {
			verdict = "negative response, fully validated"
		}
		// delv prints a validated RRset in canonical order.
		got := answerData(out, c.qtype)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.want))
		switch {
		case !strings.Contains(out, verdict):
			t.Errorf("%s %s from %s: want %q:\n%s", c.name, c.qtype, c.ecs, verdict, out)
		case c.want != nil && !slices.Equal(got, want):
			t.Errorf("%s %s from %s: answer %q, want %q:\n%s", c.name, c.qtype, c.ecs, got, want, out)
		}
		return strings.Join(got, " ")
	}

	healthy := []check{
		{"nearest", "A", gslbtest.Tokyo, []string{gslbtest.APNortheast4}},
		{"nearest", "A", gslbtest.London, []string{gslbtest.EUWest4}},
		{"nearest", "A", gslbtest.NewYork, []string{gslbtest.USEast4}},
		{"nearest", "AAAA", gslbtest.Tokyo6, []string{gslbtest.APNortheast6}},
		{"nearest", "AAAA", gslbtest.London6, []string{gslbtest.EUWest6}},
		{"nearest", "AAAA", gslbtest.NewYork6, []string{gslbtest.USEast6}},
		// The Tokyo PoP measures us-east faster than ap-northeast.
		{"latency", "A", gslbtest.PopTokyo, []string{gslbtest.USEast4}},
		{"latency", "A", gslbtest.PopLondon, []string{gslbtest.EUWest4}},
		{"latency", "A", gslbtest.PopNewYork, []string{gslbtest.USEast4}},
		{"failover", "A", gslbtest.Tokyo, []string{gslbtest.EUWest4, gslbtest.USEast4}},
		{"failover", "A", gslbtest.NewYork6, []string{gslbtest.EUWest4, gslbtest.USEast4}},
		{"edge", "A", gslbtest.Tokyo, []string{"203.0.113.1"}},
		{"edge", "A", gslbtest.London, []string{"203.0.113.2"}},
		{"edge", "A", gslbtest.NewYork, []string{"203.0.113.3"}},
		{"eu-only", "A", gslbtest.London, []string{gslbtest.EUWest4}},
		{"eu-only", "A", gslbtest.Tokyo, []string{gslbtest.APNortheast4}},
		{"strict", "A", gslbtest.London, []string{gslbtest.EUWest4}},
	}
	for _, c := range healthy {
		validate(t, c)
	}
	// weighted and the traffic dial give subnets of one place different
	// answers: each validates, and they are not all the same.
	for _, name := range []string{"weighted", "dialled"} {
		seen := map[string]bool{}
		for i := range 8 {
			seen[validate(t, check{name, "A", fmt.Sprintf("198.18.%d.0/24", 16+i), nil})] = true
		}
		if len(seen) < 2 {
			t.Errorf("%s from 8 Palo Alto subnets: one answer %q, want the subnets split", name, slices.Sorted(maps.Keys(seen)))
		}
	}

	// eu-west goes down.
	snap := gslbtest.SetHealthy(gslbtest.Snapshot(), "eu-west", false)
	if err := ts.Update(snap); err != nil {
		t.Fatal(err)
	}
	for _, c := range []check{
		{"nearest", "A", gslbtest.London, []string{gslbtest.USEast4}},
		{"nearest", "AAAA", gslbtest.London6, []string{gslbtest.USEast6}},
		{"failover", "A", gslbtest.London, []string{gslbtest.USEast4, gslbtest.APNortheast4}},
		{"latency", "A", gslbtest.PopLondon, []string{gslbtest.USEast4}},
		// Residency holds: no other origin for EU clients, NODATA.
		{"eu-only", "A", gslbtest.London, []string{}},
		{"eu-only", "A", gslbtest.Tokyo, []string{gslbtest.APNortheast4}},
	} {
		validate(t, c)
	}

	// eu-west is back, and the London PoP is drained: its clients get the
	// next PoP's address.
	snap = gslbtest.SetHealthy(snap, "eu-west", true)
	for _, p := range snap.GetPops() {
		if p.GetName() == "lon" {
			p.InService = false
		}
	}
	if err := ts.Update(snap); err != nil {
		t.Fatal(err)
	}
	for _, c := range []check{
		{"edge", "A", gslbtest.London, []string{"203.0.113.3"}},
		{"edge", "A", gslbtest.Tokyo, []string{"203.0.113.1"}},
		{"nearest", "A", gslbtest.London, []string{gslbtest.EUWest4}},
	} {
		validate(t, c)
	}
}

// answerData is the data of the records of type qtype in delv's output, in
// order.
func answerData(out, qtype string) []string {
	data := []string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[3] == qtype {
			data = append(data, f[4])
		}
	}
	return data
}

// ecsProxy forwards UDP queries to server with an ECS option for subnet
// (in place of any the query had), and the replies back unchanged: a
// resolver asking through it is a client in subnet. It returns its
// address.
func ecsProxy(t *testing.T, server, subnet string) string {
	t.Helper()
	p := netip.MustParsePrefix(subnet)
	family := uint16(1)
	if p.Addr().Is6() {
		family = 2
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil {
				continue
			}
			opt := m.IsEdns0()
			if opt == nil {
				m.SetEdns0(1232, false)
				opt = m.IsEdns0()
			}
			opt.Option = slices.DeleteFunc(opt.Option, func(o dns.EDNS0) bool { return o.Option() == dns.EDNS0SUBNET })
			opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{
				Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice(),
			})
			q, err := m.Pack()
			if err != nil {
				continue
			}
			wg.Go(func() {
				if reply, err := exchangeUDP(server, q); err == nil {
					pc.WriteTo(reply, from)
				}
			})
		}
	})
	return pc.LocalAddr().String()
}

// exchangeUDP sends one datagram to server and returns the reply.
func exchangeUDP(server string, q []byte) ([]byte, error) {
	c, err := net.Dial("udp", server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	nr, err := c.Read(buf)
	return buf[:nr], err
}
