package dnsgslb_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
)

// parentZone is a signed parent zone for the rollover tests: its apex
// (SOA, NS, DNSKEY) and a delegation to the child zone with the child's
// DS RRset, which the test changes as an operator would at a registrar.
// It signs its answers as it gives them, with its own key; a validating
// resolver uses that key's DS as its trust anchor and so trusts the
// child only through the DS RRset served here.
type parentZone struct {
	apex, child string
	signer      *dnssec.Signer
	key         *dnssec.Key
	chain       *dnssec.Chain
	dsTTL       uint32
	mu          sync.Mutex // guards ds
	ds          []*dnssec.Key
}

// parentTTL is the TTL of the parent's own records.
const parentTTL = 60

// serveParent serves apex, the parent of child, on a loopback UDP port,
// with child's DS RRset holding the DS of keys, TTL dsTTL; it returns
// the zone and its address.
func serveParent(t *testing.T, apex, child string, dsTTL uint32, keys ...*dnssec.Key) (*parentZone, string) {
	t.Helper()
	k, err := dnssec.Generate(t.TempDir(), apex, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s, err := dnssec.NewSigner(apex, []*dnssec.Key{k}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := &parentZone{apex: apex, child: child, signer: s, key: k, dsTTL: dsTTL, ds: keys,
		chain: dnssec.NewChain(apex, map[string][]uint16{
			apex:  {dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY},
			child: {dns.TypeNS, dns.TypeDS},
		}, parentTTL)}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		w.WriteMsg(p.answer(t, q))
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return p, pc.LocalAddr().String()
}

// setDS makes the child's DS RRset hold the DS of keys.
func (p *parentZone) setDS(keys ...*dnssec.Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ds = keys
}

// anchor is the trust anchor for the parent zone, as unbound reads it.
func (p *parentZone) anchor() string {
	return strings.ReplaceAll(p.key.DS().String(), "\t", " ")
}

// answer answers q from the zone: the apex's records, the child's DS, a
// referral below the child, NXDOMAIN elsewhere; each RRset signed, with
// the NSEC records a negative answer needs.
func (p *parentZone) answer(t *testing.T, q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	r.Authoritative = true
	if o := q.IsEdns0(); o != nil {
		r.SetEdns0(4096, o.Do())
	}
	name, qtype := dns.CanonicalName(q.Question[0].Name), q.Question[0].Qtype
	hdr := func(n string, t uint16, ttl uint32) dns.RR_Header {
		return dns.RR_Header{Name: n, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	soa := &dns.SOA{Hdr: hdr(p.apex, dns.TypeSOA, parentTTL), Ns: "ns." + p.apex, Mbox: "hostmaster." + p.apex, Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: parentTTL}
	signed := func(rrs ...dns.RR) []dns.RR {
		sigs, err := p.signer.Sign(rrs, time.Now())
		if err != nil {
			t.Errorf("parent zone: %v", err)
		}
		return append(rrs, sigs...)
	}
	nsec := func(n string) []dns.RR { return signed(p.chain.Covering(n)) }
	switch {
	case name == p.apex:
		var rrs []dns.RR
		switch qtype {
		case dns.TypeSOA:
			rrs = []dns.RR{soa}
		case dns.TypeNS:
			rrs = []dns.RR{&dns.NS{Hdr: hdr(p.apex, dns.TypeNS, parentTTL), Ns: "ns." + p.apex}}
		case dns.TypeDNSKEY:
			rrs = p.signer.DNSKEYs(time.Now(), parentTTL)
		}
		if len(rrs) > 0 {
			r.Answer = signed(rrs...)
		} else {
			r.Ns = append(signed(soa), nsec(p.apex)...)
		}
	case name == p.child && qtype == dns.TypeDS:
		p.mu.Lock()
		for _, k := range p.ds {
			ds := k.DS()
			ds.Hdr.Ttl = p.dsTTL
			r.Answer = append(r.Answer, ds)
		}
		p.mu.Unlock()
		r.Answer = signed(r.Answer...)
	case dns.IsSubDomain(p.child, name):
		r.Authoritative = false
		r.Ns = []dns.RR{&dns.NS{Hdr: hdr(p.child, dns.TypeNS, parentTTL), Ns: "ns1." + p.child}}
		p.mu.Lock()
		var ds []dns.RR
		for _, k := range p.ds {
			d := k.DS()
			d.Hdr.Ttl = p.dsTTL
			ds = append(ds, d)
		}
		p.mu.Unlock()
		r.Ns = append(r.Ns, signed(ds...)...)
	default:
		r.Rcode = dns.RcodeNameError
		r.Ns = append(signed(soa), nsec(name)...)
		if wc := nsec("*." + p.apex); wc[0].Header().Name != r.Ns[len(r.Ns)-2].Header().Name {
			r.Ns = append(r.Ns, wc...)
		}
	}
	return r
}
