package dnsgslb_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// runUntil serves s until the returned stop is called (or the test ends).
func runUntil(t *testing.T, s *dnsgslb.Server) (ts *testServer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	u, c := s.Addr()
	return &testServer{Server: s, udp: u.String(), tcp: c.String()}, stop
}

// asked is a query sent, the reply received, where from and where to.
type asked struct {
	q, r    *dns.Msg
	network string
	port    int
	server  netip.AddrPort
}

// ask sends m over network from a connection of its own.
func (ts *testServer) ask(t *testing.T, network string, m *dns.Msg) asked {
	t.Helper()
	addr := ts.udp
	if network == "tcp" {
		addr = ts.tcp
	}
	return askAt(t, network, addr, m)
}

// askAt sends m over network to addr from a connection of its own.
func askAt(t *testing.T, network, addr string, m *dns.Msg) asked {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 1232}
	conn, err := c.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, _, err := c.ExchangeWithConn(m, conn)
	if err != nil {
		t.Fatalf("%s query %s: %v", network, m.Question[0].String(), err)
	}
	_, port, _ := net.SplitHostPort(conn.LocalAddr().String())
	p, _ := net.LookupPort(network, port)
	server, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	return asked{q: m, r: r, network: network, port: p, server: server}
}

// readTap reads every dnstap message from a Frame Streams reader.
func readTap(t *testing.T, r dnstap.Reader) []*dnstap.Dnstap {
	t.Helper()
	var out []*dnstap.Dnstap
	buf := make([]byte, 1<<16)
	for {
		n, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading dnstap frame %d: %v", len(out), err)
		}
		m := &dnstap.Dnstap{}
		if err := proto.Unmarshal(buf[:n], m); err != nil {
			t.Fatalf("dnstap frame %d: %v", len(out), err)
		}
		out = append(out, m)
	}
}

// checkTap compares the messages of one query with what was asked.
func checkTap(t *testing.T, a asked, query, response *dnstap.Dnstap) {
	t.Helper()
	name := a.network + " " + a.q.Question[0].String()
	for _, d := range []*dnstap.Dnstap{query, response} {
		if string(d.GetIdentity()) != "ns-test" || string(d.GetVersion()) != "anyctl-test" || d.GetType() != dnstap.Dnstap_MESSAGE {
			t.Errorf("%s: identity %q version %q type %v", name, d.GetIdentity(), d.GetVersion(), d.GetType())
		}
		m := d.GetMessage()
		proto := dnstap.SocketProtocol_UDP
		if a.network == "tcp" {
			proto = dnstap.SocketProtocol_TCP
		}
		family, client := dnstap.SocketFamily_INET, "127.0.0.1"
		if a.server.Addr().Is6() {
			family, client = dnstap.SocketFamily_INET6, "::1"
		}
		if m.GetSocketProtocol() != proto || m.GetSocketFamily() != family ||
			net.IP(m.GetQueryAddress()).String() != client || int(m.GetQueryPort()) != a.port {
			t.Errorf("%s: %v %v from %v port %d, want %v %v from %s port %d", name, m.GetSocketProtocol(), m.GetSocketFamily(), net.IP(m.GetQueryAddress()), m.GetQueryPort(), proto, family, client, a.port)
		}
		if got := net.IP(m.GetResponseAddress()); !got.Equal(a.server.Addr().AsSlice()) || len(got) != a.server.Addr().BitLen()/8 || m.GetResponsePort() != uint32(a.server.Port()) {
			t.Errorf("%s: to %v port %d, want the server, %v", name, got, m.GetResponsePort(), a.server)
		}
		if age := time.Since(time.Unix(int64(m.GetQueryTimeSec()), int64(m.GetQueryTimeNsec()))); age < 0 || age > time.Hour {
			t.Errorf("%s: query time %d.%09d", name, m.GetQueryTimeSec(), m.GetQueryTimeNsec())
		}
	}
	qm, rm := query.GetMessage(), response.GetMessage()
	if qm.GetQueryTimeSec() != rm.GetQueryTimeSec() || qm.GetQueryTimeNsec() != rm.GetQueryTimeNsec() {
		t.Errorf("%s: query time %d.%09d in the query, %d.%09d in the response", name, qm.GetQueryTimeSec(), qm.GetQueryTimeNsec(), rm.GetQueryTimeSec(), rm.GetQueryTimeNsec())
	}
	if qm.ResponseTimeSec != nil || rm.ResponseTimeSec == nil || tapResponseTime(rm).Before(tapQueryTime(rm)) {
		t.Errorf("%s: response time %v in the query, %v in the response, after the query's %v", name, qm.ResponseTimeSec != nil, tapResponseTime(rm), tapQueryTime(rm))
	}
	if query.GetMessage().GetType() != dnstap.Message_AUTH_QUERY || response.GetMessage().GetType() != dnstap.Message_AUTH_RESPONSE {
		t.Fatalf("%s: message types %v, %v; want AUTH_QUERY, AUTH_RESPONSE", name, query.GetMessage().GetType(), response.GetMessage().GetType())
	}
	var q, r dns.Msg
	if err := q.Unpack(query.GetMessage().GetQueryMessage()); err != nil {
		t.Fatalf("%s: logged query: %v", name, err)
	}
	if q.Id != a.q.Id || q.Question[0] != a.q.Question[0] || q.String() != a.q.String() {
		t.Errorf("%s: logged query\n%v\nwant\n%v", name, &q, a.q)
	}
	if err := r.Unpack(response.GetMessage().GetResponseMessage()); err != nil {
		t.Fatalf("%s: logged response: %v", name, err)
	}
	if r.String() != a.r.String() {
		t.Errorf("%s: logged response\n%v\nwant the reply received\n%v", name, &r, a.r)
	}
}

func tapQueryTime(m *dnstap.Message) time.Time {
	return time.Unix(int64(m.GetQueryTimeSec()), int64(m.GetQueryTimeNsec()))
}

func tapResponseTime(m *dnstap.Message) time.Time {
	return time.Unix(int64(m.GetResponseTimeSec()), int64(m.GetResponseTimeNsec()))
}

// readTapFile reads every dnstap message of a file.
func readTapFile(t *testing.T, path string) []*dnstap.Dnstap {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := dnstap.NewReader(f, nil)
	if err != nil {
		t.Fatalf("the file is not a dnstap stream: %v", err)
	}
	return readTap(t, r)
}

func newTapServer(t *testing.T, cfg dnsgslb.DnstapConfig) *dnsgslb.Server {
	t.Helper()
	cfg.Identity, cfg.Version = "ns-test", "anyctl-test"
	return newServerWith(t, dnsgslb.Config{Dnstap: cfg}, gslbtest.Snapshot())
}

// TestDnstapFile logs real UDP and TCP queries to a file and reads it back
// with the dnstap library: one AUTH_QUERY and one AUTH_RESPONSE per query,
// each holding the query and the reply exchanged, verbatim.
func TestDnstapFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queries.dnstap")
	ts, stop := runUntil(t, newTapServer(t, dnsgslb.DnstapConfig{Output: path}))
	asks := []asked{
		ts.ask(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)),
		ts.ask(t, "udp", msg(t, "nope.gslb.example.com.", dns.TypeAAAA, "")),
		ts.ask(t, "tcp", msg(t, "www.gslb.example.com.", dns.TypeA, gslbtest.Tokyo6)),
		ts.ask(t, "udp", msg(t, "www.example.org.", dns.TypeA, "")),
	}
	got := gather(t, ts.Server)["anyctl_dns_dnstap_dropped_total{}"]
	stop()
	msgs := readTapFile(t, path)
	if len(msgs) != 2*len(asks) {
		t.Fatalf("%d messages, want %d (a query and a response per query)", len(msgs), 2*len(asks))
	}
	for i, a := range asks {
		checkTap(t, a, msgs[2*i], msgs[2*i+1])
	}
	if got != 0 {
		t.Errorf("%v queries dropped", got)
	}
	if sent := gather(t, ts.Server)["anyctl_dns_dnstap_messages_total{}"]; sent != float64(len(msgs)) {
		t.Errorf("messages_total %v, want %d", sent, len(msgs))
	}
}

// TestDnstapWildcard logs queries to a server listening on the wildcard
// address, as `--listen [::]:53` does: each message names the address
// the query was sent to (the datagram's destination over UDP, the
// connection's local address over TCP), in the client's family.
func TestDnstapWildcard(t *testing.T) {
	for _, mode := range []dnsgslb.UDPMode{dnsgslb.UDPBlocking, dnsgslb.UDPNetpoller} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "queries.dnstap")
			tap := dnsgslb.DnstapConfig{Output: path, Identity: "ns-test", Version: "anyctl-test"}
			s := newServerWith(t, dnsgslb.Config{Listen: "[::]:0", UDPMode: mode, Dnstap: tap}, gslbtest.Snapshot())
			ts, stop := runUntil(t, s)
			u, err := netip.ParseAddrPort(ts.udp)
			if err != nil {
				t.Fatal(err)
			}
			var asks []asked
			for _, network := range []string{"udp", "tcp"} {
				for _, to := range []string{"127.0.0.1", "::1"} {
					addr := netip.AddrPortFrom(netip.MustParseAddr(to), u.Port()).String()
					asks = append(asks, askAt(t, network, addr, msg(t, "www.gslb.example.com.", dns.TypeA, "")))
				}
			}
			stop()
			msgs := readTapFile(t, path)
			if len(msgs) != 2*len(asks) {
				t.Fatalf("%d messages, want %d", len(msgs), 2*len(asks))
			}
			// The UDP and TCP queries may be logged in either order.
			byID := map[uint16][2]*dnstap.Dnstap{}
			for i := 0; i+1 < len(msgs); i += 2 {
				var q dns.Msg
				if err := q.Unpack(msgs[i].GetMessage().GetQueryMessage()); err != nil {
					t.Fatal(err)
				}
				byID[q.Id] = [2]*dnstap.Dnstap{msgs[i], msgs[i+1]}
			}
			for _, a := range asks {
				pair, ok := byID[a.q.Id]
				if !ok {
					t.Fatalf("%s query %d to %v not logged", a.network, a.q.Id, a.server)
				}
				checkTap(t, a, pair[0], pair[1])
			}
		})
	}
}

// TestDnstapSampled logs one query in ten. Each UDP worker counts its own
// queries, so the server has one to make the count exact.
func TestDnstapSampled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queries.dnstap")
	tap := dnsgslb.DnstapConfig{Output: path, Sample: 10, Identity: "ns-test", Version: "anyctl-test"}
	ts, stop := runUntil(t, newServerWith(t, dnsgslb.Config{Dnstap: tap, UDPWorkers: 1}, gslbtest.Snapshot()))
	for range 100 {
		ts.exchange(t, "udp", msg(t, "www.gslb.example.com.", dns.TypeA, ""))
	}
	stop()
	if msgs := readTapFile(t, path); len(msgs) != 20 {
		t.Errorf("%d messages for 100 queries sampled 1 in 10, want 20", len(msgs))
	}
}

// TestDnstapSocket sends the messages to a collector's unix socket, which
// reads them with the dnstap library (bidirectional Frame Streams).
func TestDnstapSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "dnstap.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	frames := make(chan []*dnstap.Dnstap, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r, err := dnstap.NewReader(c, &dnstap.ReaderOptions{Bidirectional: true, Timeout: 10 * time.Second})
		if err != nil {
			t.Errorf("collector handshake: %v", err)
			frames <- nil
			return
		}
		frames <- readTap(t, r)
	}()
	ts, stop := runUntil(t, newTapServer(t, dnsgslb.DnstapConfig{Output: "unix:" + sock}))
	asks := []asked{
		ts.ask(t, "udp", msg(t, "weighted.gslb.example.com.", dns.TypeA, gslbtest.NewYork)),
		ts.ask(t, "tcp", msg(t, "txt.gslb.example.com.", dns.TypeTXT, "")),
	}
	stop() // closes the stream: the collector reads to its end
	var msgs []*dnstap.Dnstap
	select {
	case msgs = <-frames:
	case <-time.After(20 * time.Second):
		t.Fatal("the collector got no stream")
	}
	if len(msgs) != 4 {
		t.Fatalf("collector got %d messages, want 4", len(msgs))
	}
	for i, a := range asks {
		checkTap(t, a, msgs[2*i], msgs[2*i+1])
	}
}

// TestDnstapNeverBlocks: a collector that accepts the connection and never
// reads stalls the writer; every query is still answered, and those that
// find the queue full are counted as dropped.
func TestDnstapNeverBlocks(t *testing.T) {
	sock := stalledCollector(t, false)
	s := newServerWith(t, dnsgslb.Config{Dnstap: dnsgslb.DnstapConfig{Output: "unix:" + sock, QueueSize: 8}}, gslbtest.Snapshot())
	ts, stop := runUntil(t, s)
	for i := range 100 {
		if r := ts.exchange(t, "udp", msg(t, "www.gslb.example.com.", dns.TypeA, "")); len(r.Answer) != 1 {
			t.Fatalf("query %d: answer %v", i, r.Answer)
		}
	}
	if dropped := gather(t, s)["anyctl_dns_dnstap_dropped_total{}"]; dropped < 100-8 {
		t.Errorf("dropped %v of 100 queries with a queue of 8 and a stalled collector, want at least 92", dropped)
	}
	stop()
}

func TestDnstapConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		c    dnsgslb.DnstapConfig
		want string
	}{
		{dnsgslb.DnstapConfig{Output: "x", Sample: -1}, "Dnstap.Sample -1: want 1 or more (0 for every query)"},
		{dnsgslb.DnstapConfig{Output: "x", QueueSize: 1 << 21}, "Dnstap.QueueSize 2097152: want 0 (default) to 1048576"},
		{dnsgslb.DnstapConfig{Output: "unix:"}, `Dnstap.Output "unix:": want unix:PATH`},
		{dnsgslb.DnstapConfig{Output: "tcp:collector"}, `Dnstap.Output "tcp:collector": want tcp:HOST:PORT: address collector: missing port in address`},
	} {
		_, err := dnsgslb.New(dnsgslb.Config{Listen: "127.0.0.1:0", Dnstap: tc.c, Logger: slog.New(slog.DiscardHandler)})
		if err == nil || err.Error() != "dnsgslb: "+tc.want {
			t.Errorf("%+v: %v, want %q", tc.c, err, "dnsgslb: "+tc.want)
		}
	}
	// A file that cannot be created stops Run, naming it.
	s, err := dnsgslb.New(dnsgslb.Config{Listen: "127.0.0.1:0", Dnstap: dnsgslb.DnstapConfig{Output: "/nonexistent/dir/q.dnstap"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), `dnstap output "/nonexistent/dir/q.dnstap"`) {
		t.Errorf("Run with an uncreatable dnstap file: %v", err)
	}
}

// stalledCollector listens on a unix socket whose connections are never
// read: after the Frame Streams handshake if handshake, else from the
// start. It returns the socket's path.
func stalledCollector(t *testing.T, handshake bool) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "stalled.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	held := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c
			if handshake {
				dnstap.NewReader(c, &dnstap.ReaderOptions{Bidirectional: true, Timeout: 10 * time.Second})
			}
		}
	}()
	t.Cleanup(func() {
		for {
			select {
			case c := <-held:
				c.Close()
			default:
				return
			}
		}
	})
	return sock
}
