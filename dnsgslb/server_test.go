package dnsgslb_test

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// defaultLocation is near Ashburn, so unlocated clients go to us-east.
var defaultLocation = dnsgslb.Location{Latitude: 39, Longitude: -77, Country: "US", Continent: "NA", City: "default"}

// geoDBs holds the GeoIP database file geoDB wrote for each test.
var geoDBs sync.Map // testing.TB → string

// geoDB writes the test GeoIP database once per test and names that file
// to every server of the test: a server restarted in a test reads the
// database the one before it read, as a restart with the same file does.
// Each file written is another database (geo.Identify counts its
// modification time); a restart given one places clients by the
// persisted table until Run adopts the file read (adoptFirstRead), so a
// server that is not run would answer from its quick index for ever.
// Tests of that restart write their own file.
func geoDB(t testing.TB) string {
	t.Helper()
	if path, ok := geoDBs.Load(t); ok {
		return path.(string)
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	geoDBs.Store(t, path)
	t.Cleanup(func() { geoDBs.Delete(t) })
	return path
}

// testServer is a running server and where to reach it.
type testServer struct {
	*dnsgslb.Server
	udp, tcp string
}

// newServer creates a server on loopback port 0; snap may be nil.
func newServer(t testing.TB, stateDir string, snap *v1.GslbSnapshot) *dnsgslb.Server {
	t.Helper()
	return newServerWith(t, dnsgslb.Config{StateDir: stateDir}, snap)
}

// newServerWith creates a server from cfg with the test listen address,
// GeoIP database, default location and a quiet logger filled in.
func newServerWith(t testing.TB, cfg dnsgslb.Config, snap *v1.GslbSnapshot) *dnsgslb.Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.GeoIPPath == "" {
		cfg.GeoIPPath = geoDB(t)
	}
	cfg.DefaultLocation = defaultLocation
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := dnsgslb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if snap != nil {
		if err := s.Update(snap); err != nil {
			t.Fatal(err)
		}
	}
	awaitFullIndex(t, s)
	return s
}

// awaitFullIndex waits until s answers from a full index: a server's first
// snapshot is served from a quick one first (index.Options.Quick), with
// narrower ECS scopes.
func awaitFullIndex(t testing.TB, s *dnsgslb.Server) {
	t.Helper()
	// The full index is built in the background, which on a machine
	// saturated by other tests (CI runs packages at once) gets the CPU
	// only between them: the bound is for a build that never ends.
	deadline := time.Now().Add(time.Minute)
	for ix := s.Index(); ix != nil && ix.Quick(); ix = s.Index() {
		if time.Now().After(deadline) {
			t.Fatal("the server still answers from its quick index a minute after the snapshot")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run serves s until the test ends.
func run(t testing.TB, s *dnsgslb.Server) *testServer {
	t.Helper()
	runOn(t, s, func(f func()) { go f() })
	u, c := s.Addr()
	return &testServer{Server: s, udp: u.String(), tcp: c.String()}
}

// runOn serves s, its Run started by start, until the test ends, and
// returns once it is ready.
func runOn(t testing.TB, s *dnsgslb.Server, start func(func())) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start(func() { done <- s.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
}

func startServer(t testing.TB) *testServer {
	t.Helper()
	return run(t, newServer(t, "", gslbtest.Snapshot()))
}

// msg builds a query. ecs is "" for none or a prefix ("198.18.0.0/24").
func msg(t testing.TB, name string, qtype uint16, ecs string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	if ecs == "" {
		return m
	}
	m.SetEdns0(1232, false)
	p := netip.MustParsePrefix(ecs)
	family := uint16(1)
	if p.Addr().Is6() {
		family = 2
	}
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{
		Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice(),
	})
	return m
}

// exchange sends m over "udp" or "tcp" and returns the reply.
func (ts *testServer) exchange(t testing.TB, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 1232}
	addr := ts.udp
	if network == "tcp" {
		addr = ts.tcp
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s: %v", network, m.Question[0].String(), err)
	}
	if r.Id != m.Id {
		t.Fatalf("reply ID %d, want %d", r.Id, m.Id)
	}
	return r
}

// raw sends bytes over UDP and returns the reply bytes.
func (ts *testServer) raw(t testing.TB, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", ts.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	return buf[:n]
}

// rrs renders records as strings with tabs turned into spaces.
func rrs(rs []dns.RR) []string {
	var out []string
	for _, r := range rs {
		out = append(out, strings.Join(strings.Fields(r.String()), " "))
	}
	return out
}

// scope returns the ECS scope of a reply, -1 without ECS.
func scope(m *dns.Msg) int {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				return int(s.SourceScope)
			}
		}
	}
	return -1
}

func equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

// TestTCPReplyNotHeldBehindPartialQuery: replies to pipelined queries
// wait in the writer only while the next whole query is already read; a
// client that has sent one query and the first bytes of the next (here
// the length prefix) gets the first reply at once, not when the second
// is complete, nor never if the connection then idles out.
func TestTCPReplyNotHeldBehindPartialQuery(t *testing.T) {
	ts := startServer(t)
	c, err := net.Dial("tcp", ts.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := pack(t, msg(t, "www.gslb.example.com.", dns.TypeA, ""))
	out := binary.BigEndian.AppendUint16(tcpFrame(b), uint16(len(b))) // then the next query's prefix only
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var prefix [2]byte
	if _, err := c.Read(prefix[:]); err != nil {
		t.Fatalf("no reply to a complete query within 2 s while the next one is incomplete: %v", err)
	}
}

// TestTCPConnectionsPerClient: one client (an IPv4 address) gets at most
// 64 TCP connections at once; the next is closed as soon as accepted and
// counted, while another client's connection is served, and a slot freed
// by the first client is its own again.
func TestTCPConnectionsPerClient(t *testing.T) {
	ts := startServer(t)
	dial := func(from string) net.Conn { return ts.dialTCPFrom(t, from) }
	// answered says whether c gets an answer to a query.
	answered := func(c net.Conn) bool {
		t.Helper()
		b := pack(t, msg(t, "www.gslb.example.com.", dns.TypeA, ""))
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(tcpFrame(b)); err != nil {
			return false
		}
		var prefix [2]byte
		_, err := io.ReadFull(c, prefix[:])
		return err == nil
	}
	var first []net.Conn
	for range 64 {
		first = append(first, dial("127.0.0.1"))
	}
	for i, c := range first {
		if !answered(c) {
			t.Fatalf("connection %d of 64 from one client not answered", i+1)
		}
	}
	if answered(dial("127.0.0.1")) {
		t.Error("a 65th connection from one client was answered")
	}
	if !answered(dial("127.0.0.2")) {
		t.Error("another client's connection was not answered while the first had 64 open")
	}
	m := gather(t, ts.Server)
	if got := m["anyctl_dns_tcp_connections_refused_total{reason=client_full}"]; got != 1 {
		t.Errorf("refused client_full = %v, want 1", got)
	}
	if got := m["anyctl_dns_tcp_connections{}"]; got != 65 {
		t.Errorf("connections open = %v, want 65", got)
	}
	first[0].Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if gather(t, ts.Server)["anyctl_dns_tcp_connections{}"] == 64 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection was not counted out within 5 s")
		}
	}
	if !answered(dial("127.0.0.1")) {
		t.Error("the first client's connection was not answered after it closed one of its 64")
	}
}

// dialTCPFrom opens a TCP connection to the server from the loopback
// address from, closed when the test ends.
func (ts *testServer) dialTCPFrom(t *testing.T, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", ts.tcp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
