//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"bytes"
	"net"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestReplyPktinfo checks the control message a reply on a wildcard socket
// carries: the query's destination as the source, an interface only for
// an IPv6 link-local address, none for anything else received.
func TestReplyPktinfo(t *testing.T) {
	var out [ctlSize]byte

	rcv4 := unix.PktInfo4(&unix.Inet4Pktinfo{Ifindex: 7, Spec_dst: [4]byte{10, 0, 0, 9}, Addr: [4]byte{192, 0, 2, 53}})
	if n := replyPktinfo(&out, rcv4); n != unix.CmsgSpace(unix.SizeofInet4Pktinfo) {
		t.Fatalf("IPv4: %d bytes, want %d", n, unix.CmsgSpace(unix.SizeofInet4Pktinfo))
	}
	want4 := unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: [4]byte{192, 0, 2, 53}})
	if !bytes.Equal(out[:len(want4)], want4) {
		t.Fatalf("IPv4: %x, want %x", out[:len(want4)], want4)
	}

	for _, tc := range []struct {
		addr    string
		ifindex uint32
	}{{"2001:db8::53", 0}, {"::ffff:192.0.2.53", 0}, {"fe80::53", 7}} {
		var a [16]byte
		copy(a[:], net.ParseIP(tc.addr).To16())
		// Another control message first: the parser walks past it.
		other := make([]byte, unix.CmsgSpace(4))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&other[0]))
		h.Level, h.Type = unix.SOL_SOCKET, unix.SO_TIMESTAMP
		h.SetLen(unix.CmsgLen(4))
		rcv := append(other, unix.PktInfo6(&unix.Inet6Pktinfo{Addr: a, Ifindex: 7})...)
		if n := replyPktinfo(&out, rcv); n != unix.CmsgSpace(unix.SizeofInet6Pktinfo) {
			t.Fatalf("%s: %d bytes, want %d", tc.addr, n, unix.CmsgSpace(unix.SizeofInet6Pktinfo))
		}
		want := unix.PktInfo6(&unix.Inet6Pktinfo{Addr: a, Ifindex: tc.ifindex})
		if !bytes.Equal(out[:len(want)], want) {
			t.Fatalf("%s: %x, want %x", tc.addr, out[:len(want)], want)
		}
	}

	bad := make([]byte, unix.CmsgSpace(4))
	(*unix.Cmsghdr)(unsafe.Pointer(&bad[0])).SetLen(1000)
	for name, rcv := range map[string][]byte{"nothing": nil, "a length past the end": bad, "too short": rcv4[:8]} {
		if n := replyPktinfo(&out, rcv); n != 0 {
			t.Errorf("%s: %d bytes, want none", name, n)
		}
	}
}
