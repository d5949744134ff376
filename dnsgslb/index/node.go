package index

import "github.com/miekg/dns"

// node is one name of a zone, possibly an empty non-terminal.
type node struct {
	name string
	// key is name's key in Index.names (see wireKey).
	key string
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
	// nsec answers a query for type NSEC at an owner of a signed zone's
	// NSEC chain: its NSEC RRset, which NODATA could only deny with
	// itself.
	nsec *answer
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

// aliasRecord is the GslbRecord at the node with a name origin among its
// candidates, of the lowest type if several (A, then AAAA, then HTTPS):
// the one a query for type CNAME is answered from; nil without one.
func (n *node) aliasRecord() *rrset {
	var out *rrset
	for i := range n.rrsets {
		rs := &n.rrsets[i]
		if rs.rec == nil || out != nil && out.qtype < rs.qtype {
			continue
		}
		for _, c := range rs.rec.cands {
			if c.host != "" {
				out = rs
				break
			}
		}
	}
	return out
}

// finishAnswers packs the node's static, NODATA and ANY answers. prev is
// the node of the same name in the previous index when its zone answers
// negatively alike (see sameNegatives): its NODATA and ANY answers are
// taken, the NODATA as it is: it is served with the zone's SOA serial
// (see answer.appendTo). names are the index's nodes, cuts marked, where
// the NS answer finds the RRsets of its name servers' addresses.
func (n *node) finishAnswers(prev *node, names map[string]*node) error {
	z := n.zone
	var err error
	if prev != nil {
		n.nodata, n.any = prev.nodata, prev.any
	} else {
		neg := *z.soa
		neg.Hdr.Ttl = min(z.soa.Minttl, z.soa.Hdr.Ttl)
		if n.nodata, err = pack(n.name, dns.RcodeSuccess, nil, []dns.RR{&neg}, nil); err != nil {
			return err
		}
		// The SOA is the last record: its serial is followed by refresh,
		// retry, expire and minimum.
		n.nodata.serialAt = len(n.nodata.msg) - 20
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
	}
	if z.signing != nil {
		if nsec := z.signing.chain.Covering(n.name); nsec != nil && nsec.Hdr.Name == n.name {
			if n.nsec, err = pack(n.name, dns.RcodeSuccess, []dns.RR{nsec}, nil, nil); err != nil {
				return err
			}
			if err := z.signAnswer(n.nsec, n.name, dns.RcodeSuccess, []dns.RR{nsec}, nil, nil, nil); err != nil {
				return err
			}
		}
	}
	for i := range n.rrsets {
		rs := &n.rrsets[i]
		if rs.rec != nil {
			continue
		}
		var extra []dns.RR
		if rs.qtype == dns.TypeNS {
			if extra, err = z.nsAddresses(names, false); err != nil {
				return err
			}
		}
		if rs.static, err = pack(n.name, dns.RcodeSuccess, rs.rrs, nil, extra); err != nil {
			return err
		}
		if z.signing != nil && len(extra) > 0 {
			if extra, err = z.nsAddresses(names, true); err != nil {
				return err
			}
		}
		if err := z.signAnswer(rs.static, n.name, dns.RcodeSuccess, rs.rrs, nil, extra, nil); err != nil {
			return err
		}
	}
	return nil
}

// sameNegatives reports whether zones a and b give the same NODATA and ANY
// answers at every name but for the SOA serial: unsigned, with the same
// apex, TTL and SOA fields.
func sameNegatives(a, b *zone) bool {
	if a.signing != nil || b.signing != nil || a.apex != b.apex || a.ttl != b.ttl {
		return false
	}
	x, y := a.soa, b.soa
	return x.Hdr.Ttl == y.Hdr.Ttl && x.Ns == y.Ns && x.Mbox == y.Mbox && x.Refresh == y.Refresh &&
		x.Retry == y.Retry && x.Expire == y.Expire && x.Minttl == y.Minttl
}
