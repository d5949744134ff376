package dnsgslb_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestUDPTCPAgree sends the same queries, as bytes, over UDP and over TCP
// to a running server and compares the replies field by field: they must
// be the same but for what RFCs make transport-specific (TC and
// truncation over UDP, the edns-tcp-keepalive option over TCP, BADCOOKIE
// over UDP only). A truncated UDP reply must be one the TCP reply did not
// fit in, and keep the header, question and OPT record.
func TestUDPTCPAgree(t *testing.T) {
	t.Run("unsigned", func(t *testing.T) {
		agree(t, run(t, newServerWith(t, dnsgslb.Config{Identity: "node-1.example", VersionBind: "anyctl"}, diffZone())))
	})
	t.Run("signed", func(t *testing.T) {
		agree(t, run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: keyDir(t)}, diffZone())))
	})
	t.Run("signed live", func(t *testing.T) {
		saved := index.SetLiveBudget(0)
		defer index.SetLiveBudget(saved)
		agree(t, run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: keyDir(t)}, diffZone())))
	})
}

// keyDir is a directory holding a new signing key for the test zone.
func keyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// diffZone is gslbtest.RealZone with answers too large for a UDP reply
// of 512 bytes: a delegation to 16 glued name servers, a DS at another
// cut, a name of 40 A records, and 12 name servers at the apex.
func diffZone() *v1.GslbSnapshot {
	snap := gslbtest.RealZone()
	spec := snap.Zones[0].Spec
	a, aaaa := v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA
	fat := &v1.StaticRecord{Name: "fat", Type: v1.RecordType_RECORD_TYPE_NS, Ttl: 3600}
	for i := range 16 {
		ns := fmt.Sprintf("ns%d.fat", i)
		fat.Values = append(fat.Values, ns)
		spec.Records = append(spec.Records,
			&v1.StaticRecord{Name: ns, Type: a, Values: []string{fmt.Sprintf("192.0.2.%d", 10+i)}},
			&v1.StaticRecord{Name: ns, Type: aaaa, Values: []string{fmt.Sprintf("2001:db8::%x", 10+i)}})
	}
	gslbtest.AddNameServers(spec, 10)
	many := &v1.StaticRecord{Name: "many", Type: a}
	for i := range 40 {
		many.Values = append(many.Values, fmt.Sprintf("192.0.2.%d", 100+i))
	}
	spec.Records = append(spec.Records, fat, many,
		&v1.StaticRecord{Name: "secure", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}},
		&v1.StaticRecord{Name: "secure", Type: v1.RecordType_RECORD_TYPE_DS, Values: []string{"12345 13 2 " + strings.Repeat("ab", 32)}})
	return snap
}

func agree(t *testing.T, ts *testServer) {
	start := time.Now()
	u, err := net.Dial("udp", ts.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	c, err := net.Dial("tcp", ts.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Close() }()
	br := bufio.NewReader(c)
	cases := diffCases()
	truncated, silent := 0, 0
	for _, tc := range cases {
		ur, uerr := exchangeOn(u, nil, tc.b)
		cr, cerr := exchangeOn(c, br, tc.b)
		if cerr != nil {
			// A query with no reply leaves the connection to time out:
			// start a new one.
			c.Close()
			if c, err = net.Dial("tcp", ts.tcp); err != nil {
				t.Fatal(err)
			}
			br = bufio.NewReader(c)
		}
		if (uerr != nil) != (cerr != nil) {
			t.Errorf("%s: UDP error %v, TCP error %v", tc.desc, uerr, cerr)
			continue
		}
		if uerr != nil {
			silent++
			continue // no reply either way
		}
		if len(ur) > 2 && ur[2]&0x02 != 0 {
			truncated++
		}
		if err := compareReplies(tc.b, ur, cr); err != nil {
			t.Errorf("%s: %v\nquery % x\nUDP   % x\nTCP   % x", tc.desc, err, tc.b, ur, cr)
		}
	}
	t.Logf("%d queries over both transports in %v: %d truncated over UDP, %d unanswered", len(cases), time.Since(start), truncated, silent)
}

// exchangeOn sends b on c (length-prefixed when br, its reader, is set)
// and reads one reply; an error when none comes within a second.
func exchangeOn(c net.Conn, br *bufio.Reader, b []byte) ([]byte, error) {
	c.SetDeadline(time.Now().Add(time.Second))
	if br == nil {
		if _, err := c.Write(b); err != nil {
			return nil, err
		}
		buf := make([]byte, 65535)
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	if _, err := c.Write(tcpFrame(b)); err != nil {
		return nil, err
	}
	var n [2]byte
	if _, err := readFull(br, n[:]); err != nil {
		return nil, err
	}
	out := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := readFull(br, out); err != nil {
		return nil, err
	}
	return out, nil
}

func readFull(br *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := br.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// compareReplies checks the UDP reply u and the TCP reply c to query q.
func compareReplies(q, u, c []byte) error {
	var um, cm dns.Msg
	if err := um.Unpack(u); err != nil {
		return fmt.Errorf("UDP reply does not unpack: %w", err)
	}
	if err := cm.Unpack(c); err != nil {
		return fmt.Errorf("TCP reply does not unpack: %w", err)
	}
	if cm.Truncated {
		return errors.New("TCP reply has TC set")
	}
	var qm dns.Msg
	qerr := qm.Unpack(q)
	limit := 512
	if qerr == nil {
		if opt := qm.IsEdns0(); opt != nil {
			limit = max(512, min(int(opt.UDPSize()), 1232))
		}
	}
	if len(u) > limit {
		return fmt.Errorf("UDP reply of %d bytes, over the limit of %d", len(u), limit)
	}
	// The question as asked, case and all, in both.
	if qd := binary.BigEndian.Uint16(q[4:]); qd == 1 && binary.BigEndian.Uint16(u[4:]) == 1 {
		if end, ok := questionEnd(q); ok && !bytes.Contains(q[12:end], []byte{0xC0}) {
			for name, r := range map[string][]byte{"UDP": u, "TCP": c} {
				if len(r) < end || !bytes.Equal(r[12:end], q[12:end]) {
					return fmt.Errorf("%s reply question is not the query's", name)
				}
			}
		}
	}
	keepalive := stripKeepalive(&cm)
	if keepalive && !hasKeepalive(qerr, &qm) {
		return errors.New("TCP reply has edns-tcp-keepalive, the query did not ask")
	}
	if stripKeepalive(&um) {
		return errors.New("UDP reply has edns-tcp-keepalive")
	}
	badCookie := um.Rcode == dns.RcodeBadCookie && cm.Rcode != dns.RcodeBadCookie
	normalizeCookie(&um)
	normalizeCookie(&cm)
	if badCookie {
		// Over UDP an invalid server cookie gets BADCOOKIE and a fresh
		// cookie; over TCP the query is answered (RFC 7873 5.2.3).
		if len(um.Answer)+len(um.Ns) != 0 {
			return fmt.Errorf("UDP BADCOOKIE reply with records:\n%s", &um)
		}
		return nil
	}
	if um.Truncated {
		// What the TCP reply would be over UDP (without keepalive) must
		// not have fit.
		cb, err := cm.Pack()
		if err != nil {
			return err
		}
		if len(cb) <= limit {
			return fmt.Errorf("UDP reply truncated (limit %d) where the TCP reply of %d bytes fits:\nUDP %s\nTCP %s", limit, len(cb), &um, &cm)
		}
		// RFC 2181 section 9: TC only when a required RRset does not fit,
		// not additional data (but a referral's glue, RFC 9471).
		if cm.Authoritative && len(cm.Extra) > len(optOf(&cm)) {
			bare := cm.Copy()
			bare.Extra = optOf(bare)
			if b, err := bare.Pack(); err == nil && len(b) <= limit {
				return fmt.Errorf("UDP reply truncated (limit %d) where the answer without additional data, %d bytes, fits", limit, len(b))
			}
		}
		if len(um.Answer)+len(um.Ns)+len(um.Extra) != len(optOf(&um)) {
			return fmt.Errorf("truncated UDP reply keeps records:\n%s", &um)
		}
		um.Truncated = false
		cm.Answer, cm.Ns = nil, nil
		um.Extra, cm.Extra = optOf(&um), optOf(&cm)
		// The ECS scope: a truncated reply says nothing of the answer.
		setScope(&um, 0)
		setScope(&cm, 0)
	}
	if !um.Truncated && len(um.Extra) < len(cm.Extra) {
		// Additional data left out of a UDP reply it did not fit in.
		cb, err := cm.Pack()
		if err != nil {
			return err
		}
		if len(cb) <= limit {
			return fmt.Errorf("UDP reply leaves out additional records where the TCP reply of %d bytes fits in %d:\nUDP %s\nTCP %s", len(cb), limit, &um, &cm)
		}
		if len(um.Extra) != len(optOf(&um)) {
			return fmt.Errorf("UDP reply keeps part of the additional section:\n%s", &um)
		}
		cm.Extra = optOf(&cm)
	}
	if us, cs := um.String(), cm.String(); us != cs {
		return fmt.Errorf("replies differ:\nUDP:\n%s\nTCP:\n%s", us, cs)
	}
	return nil
}

// optOf is m's OPT record alone, or none.
func optOf(m *dns.Msg) []dns.RR {
	if o := m.IsEdns0(); o != nil {
		return []dns.RR{o}
	}
	return nil
}

func hasKeepalive(err error, m *dns.Msg) bool {
	if err != nil {
		return true // not judged here
	}
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if opt.Option() == dns.EDNS0TCPKEEPALIVE {
				return true
			}
		}
	}
	return false
}

func stripKeepalive(m *dns.Msg) bool {
	o := m.IsEdns0()
	if o == nil {
		return false
	}
	found := false
	kept := o.Option[:0]
	for _, opt := range o.Option {
		if opt.Option() == dns.EDNS0TCPKEEPALIVE {
			found = true
			continue
		}
		kept = append(kept, opt)
	}
	o.Option = kept
	return found
}

// normalizeCookie blanks the server cookie's timestamp and hash, which
// may change between the two queries.
func normalizeCookie(m *dns.Msg) {
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if c, ok := opt.(*dns.EDNS0_COOKIE); ok && len(c.Cookie) == 48 {
				c.Cookie = c.Cookie[:24] + strings.Repeat("0", 24)
			}
		}
	}
}

func setScope(m *dns.Msg, s uint8) {
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if e, ok := opt.(*dns.EDNS0_SUBNET); ok {
				e.SourceScope = s
			}
		}
	}
}

// questionEnd is the offset after the first question of b.
func questionEnd(b []byte) (int, bool) {
	off := 12
	for off < len(b) {
		l := int(b[off])
		if l == 0 {
			return off + 5, off+5 <= len(b)
		}
		if l&0xC0 != 0 {
			return off + 6, off+6 <= len(b)
		}
		off += 1 + l
	}
	return 0, false
}

type diffCase struct {
	desc string
	b    []byte
}

// diffCases is the mix of queries TestUDPTCPAgree sends.
func diffCases() []diffCase {
	var cases []diffCase
	add := func(desc string, b []byte) { cases = append(cases, diffCase{desc, b}) }
	names := []string{
		"www", "WwW", "alias", "txt", "a.deep", "deep", "x.deep", "big", "sel._domainkey", "@", "mx1",
		"_sip._tcp", "svc", "child", "CHILD", "ns1.child", "x.y.child", "nonexistent", "*",
		"nearest", "NeArEsT", "latency", "weighted", "failover", "dialled", "edge", "eu-only",
		"eu-open", "strict", "web", "cloud", "ns1", "fat", "ns3.fat", "x.FAT", "many", "secure", "a.secure",
	}
	qtypes := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeANY, dns.TypeNS,
		dns.TypeSOA, dns.TypeDS, dns.TypeCNAME, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeSRV, dns.TypeCAA,
		dns.TypeDNSKEY, dns.TypeNSEC, dns.TypeRRSIG, 65535}
	type variant struct {
		desc string
		f    func(m *dns.Msg)
	}
	edns := func(size uint16, do bool, opts ...dns.EDNS0) func(m *dns.Msg) {
		return func(m *dns.Msg) {
			m.SetEdns0(size, do)
			m.IsEdns0().Option = append(m.IsEdns0().Option, opts...)
		}
	}
	ecs := func(family uint16, bits uint8, addr string) dns.EDNS0 {
		ip := net.ParseIP(addr)
		if family == 1 {
			ip = ip.To4()
		}
		return &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: bits, Address: ip}
	}
	variants := []variant{
		{"plain", func(m *dns.Msg) {}},
		{"RD CD AD", func(m *dns.Msg) { m.RecursionDesired, m.CheckingDisabled, m.AuthenticatedData = true, true, true }},
		{"EDNS 1232", edns(1232, false)},
		{"EDNS 512 DO", edns(512, true)},
		{"EDNS 100", edns(100, false)},
		{"EDNS 4096 DO", edns(4096, true)},
		{"EDNS 1232 DO", edns(1232, true)},
		{"ECS v4/24", edns(1232, false, ecs(1, 24, "198.18.1.0"))},
		{"ECS v4/32 DO", edns(1232, true, ecs(1, 32, "198.18.0.7"))},
		{"ECS v4/0", edns(1232, false, ecs(1, 0, "0.0.0.0"))},
		{"ECS v6/56", edns(1232, false, ecs(2, 56, "2001:db8:2::"))},
		{"ECS v6/128", edns(1232, false, ecs(2, 128, "2001:db8:1::1"))},
		{"ECS v6/0", edns(1232, false, ecs(2, 0, "::"))},
		{"ECS mapped/128", edns(1232, false, ecs(2, 128, "::ffff:198.18.3.1"))},
		{"ECS scope set", edns(1232, false, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, SourceScope: 16, Address: net.IP{198, 18, 2, 0}})},
		{"NSID cookie", edns(1232, false, &dns.EDNS0_NSID{Code: dns.EDNS0NSID}, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})},
		{"bad server cookie", edns(1232, false, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "01020304050607080102030405060708"})},
		{"keepalive", edns(1232, false, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE})},
		{"unknown option", edns(1232, false, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}})},
		{"padding", edns(1232, false, &dns.EDNS0_PADDING{Padding: make([]byte, 20)})},
		{"version 1", func(m *dns.Msg) { m.SetEdns0(1232, true); m.IsEdns0().SetVersion(1) }},
	}
	for _, n := range names {
		name := gslbtest.Zone
		if n != "@" {
			name = n + "." + gslbtest.Zone
		}
		for _, qt := range qtypes {
			for _, v := range variants {
				m := new(dns.Msg)
				m.SetQuestion(name, qt)
				m.RecursionDesired = false
				m.Id = 0x1234
				v.f(m)
				b, err := m.Pack()
				if err != nil {
					panic(err)
				}
				add(fmt.Sprintf("%s %s %s", name, dns.TypeToString[qt], v.desc), b)
			}
		}
	}
	// Every UDP size a reply's length may straddle.
	for _, n := range []string{"many", "sel._domainkey", "fat", "x.fat", "nonexistent", "x.deep", "nearest", "NeArEsT6", "@NS"} {
		for size := 512; size <= 1240; size++ {
			for _, do := range []bool{false, true} {
				m := new(dns.Msg)
				m.SetQuestion(n+"."+gslbtest.Zone, dns.TypeA)
				if n == "@NS" {
					m.SetQuestion(gslbtest.Zone, dns.TypeNS)
				}
				if strings.HasSuffix(n, "6") {
					m.SetQuestion(strings.TrimSuffix(n, "6")+"."+gslbtest.Zone, dns.TypeAAAA)
				}
				m.SetEdns0(uint16(size), do)
				m.IsEdns0().Option = append(m.IsEdns0().Option, ecs(2, 128, "2001:db8:2::1"), &dns.EDNS0_NSID{Code: dns.EDNS0NSID},
					&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
				b, _ := m.Pack()
				add(fmt.Sprintf("%s size %d DO %v", n, size, do), b)
			}
		}
	}
	// Classes, opcodes and shapes.
	for _, cl := range []uint16{dns.ClassCHAOS, dns.ClassHESIOD, dns.ClassANY, dns.ClassNONE, 2} {
		for _, n := range []string{"id.server.", "HOSTNAME.bind.", "version.bind.", "other.bind.", "www." + gslbtest.Zone} {
			for _, qt := range []uint16{dns.TypeTXT, dns.TypeA, dns.TypeANY} {
				for _, e := range []bool{false, true} {
					m := new(dns.Msg)
					m.SetQuestion(n, qt)
					m.Question[0].Qclass = cl
					if e {
						m.SetEdns0(1232, false)
						m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
					}
					b, _ := m.Pack()
					add(fmt.Sprintf("class %d %s %s edns %v", cl, n, dns.TypeToString[qt], e), b)
				}
			}
		}
	}
	base := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www."+gslbtest.Zone, dns.TypeA)
		m.Id = 0x4321
		return m
	}
	for _, op := range []int{1, 2, 3, 4, 5, 6, 15} {
		m := base()
		m.Opcode = op
		m.SetEdns0(1232, false)
		b, _ := m.Pack()
		add(fmt.Sprintf("opcode %d", op), b)
	}
	{
		m := base()
		m.Response = true
		b, _ := m.Pack()
		add("QR set", b)
	}
	{
		m := base()
		m.Question = append(m.Question, dns.Question{Name: "nearest." + gslbtest.Zone, Qtype: dns.TypeA, Qclass: dns.ClassINET})
		b, _ := m.Pack()
		add("two questions", b)
		m.SetEdns0(1232, false)
		b, _ = m.Pack()
		add("two questions EDNS", b)
	}
	{
		m := new(dns.Msg)
		m.Id = 7
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		b, _ := m.Pack()
		add("no question, cookie", b)
		m.IsEdns0().Option = nil
		b, _ = m.Pack()
		add("no question, EDNS", b)
	}
	{
		name := []byte{3, 'W', 'w', 'W', 4, 'g', 's', 'l', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0}
		// The question is "Nearest" and a pointer to gslb.example.com.,
		// the owner of an answer-section record after it.
		q := []byte{}
		q = wireHeader(0, 1, 1, 0, 0)
		qOff := len(q)
		q = append(q, 7, 'N', 'e', 'a', 'r', 'e', 's', 't', 0xC0, 0) // pointer patched below
		q = append(q, 0, 1, 0, 1)
		target := len(q)
		q = append(q, name[4:]...) // gslb.example.com.
		q = append(q, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1)
		q[qOff+9] = byte(target)
		add("compressed question, answer record", q)
		opt := join(q[:10], []byte{0, 1}, q[12:], wireOPT(0))
		add("compressed question, answer record, OPT", opt)
	}
	// Escaped and 8-bit bytes, and the longest names.
	for _, n := range []string{`a\.b.` + gslbtest.Zone, `\000.` + gslbtest.Zone, `\200X\255.` + gslbtest.Zone, `WWW\.` + gslbtest.Zone} {
		m := new(dns.Msg)
		m.SetQuestion(n, dns.TypeA)
		m.SetEdns0(1232, false)
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		add("name "+n, b)
	}
	for _, extra := range []int{0, 1} {
		// 255 bytes: labels of 63 under the zone (18 bytes of wire).
		name := []byte{}
		for len(name)+64 <= 255-18-extra {
			name = append(name, 63)
			name = append(name, bytes.Repeat([]byte{'A'}, 63)...)
		}
		if r := 255 - 18 - len(name) - extra; r > 1 {
			name = append(name, byte(r-1))
			name = append(name, bytes.Repeat([]byte{'b'}, r-1)...)
		}
		name = append(name, 4, 'g', 's', 'l', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0)
		for _, opt := range [][]byte{nil, wireOPT(0)} {
			ar := uint16(0)
			if opt != nil {
				ar = 1
			}
			add(fmt.Sprintf("name of %d bytes, OPT %v", len(name), opt != nil), join(wireHeader(0, 1, 0, 0, ar), name, []byte{0, 1, 0, 1}, opt))
		}
	}
	return cases
}
