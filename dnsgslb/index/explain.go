package index

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// Explanation says how a query would be answered and why.
type Explanation struct {
	Name   string
	Type   string
	Client netip.Prefix
	// Zone is the apex of the zone holding the name; empty when refused.
	Zone string
	// Record is the GslbRecord that chose the answer; empty for static
	// data and negative answers.
	Record  string
	Policy  string
	Located Located
	// Bucket is the client subnet's bucket when the record's answer depends
	// on it (weighted policy, traffic dial), else -1.
	Bucket     int
	Candidates []CandidateExplanation
	Notes      []string
	Rcode      string
	Answer     []string
	Authority  []string
	TTL        uint32
	// Scope is the ECS scope prefix length the answer carries.
	Scope int
	// Signatures describe the RRSIGs of a signed zone's answer: what each
	// covers, its key and its validity.
	Signatures []string
}

// Located says how the client was placed.
type Located struct {
	// Leaf is the prefix-table leaf holding the client address.
	Leaf netip.Prefix
	// Source is "pop" (a PoP's cache network), "geoip" or "default".
	Source   string
	Pop      string
	Location geo.Location
}

// CandidateExplanation is one candidate and what selection did with it.
type CandidateExplanation struct {
	Name      string
	Kind      string
	Addresses []string
	Healthy   bool
	// Excluded says why the candidate was dropped; empty when kept.
	Excluded   string
	Rank       int
	RankedBy   string
	DistanceKm float64
	// RTT is the asking PoP's measured RTT to the candidate, 0 if unknown.
	RTT      time.Duration
	Note     string
	Answered bool
}

// Explain answers (name, qtype) for a client subnet through the same
// Respond the server uses, and traces the selection that chose the answer.
// A client prefix of length 0 stands for a resolver at that address sending
// no ECS.
func (ix *Index) Explain(name string, qtype uint16, client netip.Prefix) Explanation {
	ex := Explanation{Name: name, Type: typeName(qtype), Client: client, Bucket: -1}
	var q wire.Query
	var wname [255]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), wname[:], 0, nil, false)
	if err != nil {
		ex.Rcode = dns.RcodeToString[dns.RcodeFormatError]
		ex.Notes = append(ex.Notes, "bad name: "+err.Error())
		return ex
	}
	q.SetName(wname[:n])
	q.HasQuestion, q.Qtype, q.Qclass = true, qtype, dns.ClassINET
	q.EDNS, q.UDPSize, q.DO = true, wire.AdvertisedUDPSize, true
	// A resolver sending no ECS is steered by its own address, which
	// masking to /0 would lose.
	src := client.Addr().Unmap()
	client = client.Masked()
	if client.Bits() > 0 {
		// As a resolver sends it: an IPv4-mapped subnet is ECS family 2,
		// whose answer's scope counts the 96 bits of ::ffff:0:0/96.
		q.ECS, q.ECSSource = true, uint8(client.Bits())
		q.ECSFamily, q.ECSAddr = 2, client.Addr().As16()
		if client.Addr().Is4() {
			b4 := client.Addr().As4()
			q.ECSFamily, q.ECSAddr = 1, [16]byte{}
			copy(q.ECSAddr[:], b4[:])
		}
	}
	buf := make([]byte, 0, 65535)
	resp, _ := ix.Respond(buf, &q, src, 65535)
	ix.describeReply(&ex, resp)

	nd := ix.names[string(q.LowerName())]
	if nd == nil {
		if z, _ := ix.findZone(q.LowerName()); z != nil {
			ex.Zone = z.apex
		}
		return ex
	}
	ex.Zone = nd.zone.apex
	rs := nd.find(qtype)
	if rs == nil && qtype == dns.TypeCNAME {
		rs = nd.aliasRecord()
	}
	if rs == nil || rs.rec == nil || qtype == dns.TypeANY {
		return ex
	}
	ix.traceRecord(&ex, rs.rec, clientAddr(&q, src))
	return ex
}

// traceRecord runs the record's selection for a client address with a
// trace.
func (ix *Index) traceRecord(ex *Explanation, rec *record, addr netip.Addr) {
	leaf := ix.table.Lookup(addr)
	cl := &ix.clients[leaf.Class]
	ex.Record, ex.Policy = rec.object, rec.policy.String()
	ex.Located = Located{Leaf: ix.table.Prefix(leaf), Source: cl.class.Source, Pop: cl.class.Pop, Location: cl.class.Location}
	tr := &trace{}
	for _, c := range rec.cands {
		ce := CandidateExplanation{
			Name: c.name, Kind: c.kind(), Healthy: c.healthy,
			DistanceKm: geo.DistanceKm(cl.class.Location, c.location), RTT: cl.rtt[c.name],
		}
		for _, a := range c.addrs {
			ce.Addresses = append(ce.Addresses, a.String())
		}
		if c.host != "" {
			ce.Addresses = []string{c.host}
		}
		tr.cands = append(tr.cands, ce)
	}
	for _, m := range rec.missing {
		tr.note("candidate %q is not in the snapshot", m)
	}
	p := rec.prepare(cl, tr)
	bucket := 0
	if rec.hashed {
		bucket = Bucket(addr.Unmap())
		ex.Bucket = bucket
	}
	rec.finish(p, bucket, tr, nil)
	ex.Candidates, ex.Notes = tr.cands, append(ex.Notes, tr.notes...)
}

// describeReply fills the rcode, records, TTL and scope from a reply.
func (ix *Index) describeReply(ex *Explanation, resp []byte) {
	var m dns.Msg
	if err := m.Unpack(resp); err != nil {
		ex.Notes = append(ex.Notes, "reply does not unpack: "+err.Error())
		return
	}
	ex.Rcode = dns.RcodeToString[m.Rcode]
	if opt := m.IsEdns0(); opt != nil {
		if ext := opt.ExtendedRcode(); ext > 15 {
			ex.Rcode = dns.RcodeToString[ext]
		}
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				ex.Scope = int(s.SourceScope)
			}
		}
	}
	for _, rr := range m.Answer {
		if ix.signature(ex, rr) {
			continue
		}
		ex.Answer = append(ex.Answer, rr.String())
		ex.TTL = rr.Header().Ttl
	}
	for _, rr := range m.Ns {
		if ix.signature(ex, rr) {
			continue
		}
		ex.Authority = append(ex.Authority, rr.String())
		if len(m.Answer) == 0 {
			ex.TTL = rr.Header().Ttl
		}
	}
}

// signature describes rr in ex.Signatures if it is an RRSIG.
func (ix *Index) signature(ex *Explanation, rr dns.RR) bool {
	sig, ok := rr.(*dns.RRSIG)
	if !ok {
		return false
	}
	at := func(t uint32) string { return time.Unix(int64(t), 0).UTC().Format(time.RFC3339) }
	ex.Signatures = append(ex.Signatures, fmt.Sprintf("%s %s: key %d (%s), valid %s to %s",
		sig.Hdr.Name, typeName(sig.TypeCovered), sig.KeyTag, dns.AlgorithmToString[sig.Algorithm], at(sig.Inception), at(sig.Expiration)))
	return true
}
