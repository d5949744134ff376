package dnsgslb_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestWildcardReplySource serves on a wildcard address of a host with
// several addresses and queries one of them from another: the reply must
// come from the address the query was sent to, or a resolver drops it.
// Without a source named on the reply, routing picks the local address it
// prefers for the client (here the client's own address). A server bound
// to one address keeps sending without a control message and from that
// address all the same.
func TestWildcardReplySource(t *testing.T) {
	needRoot(t, "the wildcard-address test")
	const (
		server4, client4 = "10.99.0.1", "10.99.0.2"
		server6, client6 = "fd00:99::1", "fd00:99::2"
	)
	for _, mode := range []dnsgslb.UDPMode{dnsgslb.UDPBlocking, dnsgslb.UDPNetpoller} {
		for _, listen := range []string{"0.0.0.0:0", "[::]:0", server4 + ":0"} {
			t.Run(mode.String()+" "+listen, func(t *testing.T) {
				n := newIsolatedNet(t, server4, client4, server6, client6)
				var c4, c6 net.PacketConn
				var err error
				n.do(func() {
					if c4, err = net.ListenPacket("udp4", client4+":0"); err != nil {
						return
					}
					c6, err = net.ListenPacket("udp6", "["+client6+"]:0")
				})
				if err != nil {
					t.Fatalf("client socket: %v", err)
				}
				defer c4.Close()
				defer c6.Close()

				s := newServerWith(t, dnsgslb.Config{Listen: listen, UDPMode: mode, UDPWorkers: 1}, gslbtest.Snapshot())
				port := runIn(t, n, s)

				query := func(c net.PacketConn, to string) {
					t.Helper()
					m := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.Tokyo)
					b, err := m.Pack()
					if err != nil {
						t.Fatal(err)
					}
					dst := netip.AddrPortFrom(netip.MustParseAddr(to), port)
					if _, err := c.WriteTo(b, net.UDPAddrFromAddrPort(dst)); err != nil {
						t.Fatalf("query to %s: %v", dst, err)
					}
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					buf := make([]byte, 2048)
					nr, from, err := c.ReadFrom(buf)
					if err != nil {
						t.Fatalf("query to %s: no reply: %v", dst, err)
					}
					if got := from.(*net.UDPAddr).AddrPort(); netip.AddrPortFrom(got.Addr().Unmap(), got.Port()) != dst {
						t.Fatalf("query to %s: reply from %s", dst, got)
					}
					r := new(dns.Msg)
					if err := r.Unpack(buf[:nr]); err != nil {
						t.Fatalf("query to %s: %v", dst, err)
					}
					want := []string{a("nearest", gslbtest.APNortheast4)}
					if r.Id != m.Id || !equal(rrs(r.Answer), want) {
						t.Fatalf("query to %s: ID %d answer %q, want ID %d %q", dst, r.Id, rrs(r.Answer), m.Id, want)
					}
				}
				query(c4, server4)
				if listen == "[::]:0" {
					query(c6, server6)
				}
			})
		}
	}
}

// runIn runs s in the namespace n, so that its sockets are there, until
// the test ends, and returns its port.
func runIn(t *testing.T, n *isolatedNet, s *dnsgslb.Server) uint16 {
	t.Helper()
	runOn(t, s, func(f func()) { n.calls <- f })
	u, _ := s.Addr()
	return uint16(u.(*net.UDPAddr).Port)
}
