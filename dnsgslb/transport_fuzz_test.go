package dnsgslb

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// FuzzUDPTCPAgree answers arbitrary requests as over UDP and as over TCP:
// the replies must be the same but for what RFCs make transport-specific.
// A UDP reply is either the TCP reply without its edns-tcp-keepalive
// option, or (when that does not fit the client's size) truncated or
// without additional data; a query with a keepalive option or a server
// cookie is answered differently by design (FORMERR over TCP for a
// keepalive timeout, BADCOOKIE over UDP) and only checked to get a reply
// both ways.
func FuzzUDPTCPAgree(f *testing.F) {
	r := testResponderWith(f, Config{Identity: "ns1.fra.example.net", RRL: &RRLConfig{}})
	nsid := &dns.EDNS0_NSID{Code: dns.EDNS0NSID}
	ck := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
	for _, seed := range [][]byte{
		packed(f, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London),
		packed(f, "NEAREST.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6, nsid, ck),
		packed(f, "big.gslb.example.com.", dns.TypeTXT, "", nsid),
		packed(f, "big.gslb.example.com.", dns.TypeTXT, ""),
		packed(f, "gslb.example.com.", dns.TypeNS, ""),
		packed(f, "nope.gslb.example.com.", dns.TypeA, "2001:db8::/128", ck),
		packed(f, "id.server.", dns.TypeTXT, ""),
		{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1},
	} {
		f.Add(seed)
	}
	src := netip.MustParseAddr("192.0.2.1")
	ubuf, tbuf := make([]byte, maxReply), make([]byte, dns.MaxMsgSize)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		u := r.handle(ubuf[:0], pkt, src, false)
		c := r.handle(tbuf[:0], pkt, src, true)
		if (u == nil) != (c == nil) {
			t.Fatalf("UDP reply %v, TCP reply %v\nrequest % x", u != nil, c != nil, pkt)
		}
		if u == nil {
			return
		}
		if r.q.Keepalive || r.q.ServerCookieLen > 0 {
			return
		}
		if c[3]&0xF == dns.RcodeFormatError && binary.BigEndian.Uint16(c[4:]) == 0 {
			// A question the parser gave up on: both say so.
			if !bytes.Equal(u, c) {
				t.Fatalf("FORMERR replies differ\nrequest % x\nUDP % x\nTCP % x", pkt, u, c)
			}
			return
		}
		if c[2]&0x02 != 0 {
			t.Fatalf("TCP reply with TC\nrequest % x", pkt)
		}
		if bytes.Equal(u, c) {
			return
		}
		limit := 512
		if r.q.EDNS {
			limit = max(512, min(int(r.q.UDPSize), 1232))
		}
		if len(c) <= limit {
			t.Fatalf("UDP and TCP replies differ, the TCP one fitting in %d bytes\nrequest % x\nUDP % x\nTCP % x", limit, pkt, u, c)
		}
		// The same ID, flags (but TC) and rcode.
		if uh := [4]byte{u[0], u[1], u[2] &^ 0x02, u[3]}; !bytes.Equal(uh[:], c[:4]) {
			t.Fatalf("UDP reply header % x, TCP % x\nrequest % x", u[:4], c[:4], pkt)
		}
	})
}
