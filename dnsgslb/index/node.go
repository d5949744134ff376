package index

import "github.com/miekg/dns"

// node is one name of a zone, possibly an empty non-terminal.
type node struct {
	name string
	// wlen is the length of name in wire format.
	wlen   int
	zone   *zone
	rrsets []rrset
	// cut is the zone cut the node is at or below (itself at a cut), nil
	// in the zone's own data; referral is set on a cut.
	cut      *node
	referral *referral
	// nodata answers a type the node has no data for; any answers ANY
	// (RFC 8482).
	nodata *answer
	any    *answer
}

// rrset is the data of one type at a node: fixed, or chosen per client.
type rrset struct {
	qtype  uint16
	static *answer
	rec    *record
	// rrs are the static records, kept for building the answer.
	rrs []dns.RR
}

func (n *node) find(qtype uint16) *rrset {
	for i := range n.rrsets {
		if n.rrsets[i].qtype == qtype {
			return &n.rrsets[i]
		}
	}
	return nil
}

// finishAnswers packs the node's static, NODATA and ANY answers.
func (n *node) finishAnswers() error {
	z := n.zone
	neg := *z.soa
	neg.Hdr.Ttl = min(z.soa.Minttl, z.soa.Hdr.Ttl)
	var err error
	if n.nodata, err = pack(n.name, dns.RcodeSuccess, nil, []dns.RR{&neg}, nil); err != nil {
		return err
	}
	if err := z.signAnswer(n.nodata, n.name, dns.RcodeSuccess, nil, []dns.RR{&neg}, nil, z.denial(n, 0)); err != nil {
		return err
	}
	hinfo := &dns.HINFO{Hdr: hdr(n.name, dns.TypeHINFO, z.ttl), Cpu: "RFC8482", Os: ""}
	if n.any, err = pack(n.name, dns.RcodeSuccess, []dns.RR{hinfo}, nil, nil); err != nil {
		return err
	}
	if err := z.signAnswer(n.any, n.name, dns.RcodeSuccess, []dns.RR{hinfo}, nil, nil, nil); err != nil {
		return err
	}
	for i := range n.rrsets {
		rs := &n.rrsets[i]
		if rs.rec != nil {
			continue
		}
		var extra []dns.RR
		if rs.qtype == dns.TypeNS {
			extra = z.glue
		}
		if rs.static, err = pack(n.name, dns.RcodeSuccess, rs.rrs, nil, extra); err != nil {
			return err
		}
		if err := z.signAnswer(rs.static, n.name, dns.RcodeSuccess, rs.rrs, nil, extra, nil); err != nil {
			return err
		}
	}
	return nil
}
