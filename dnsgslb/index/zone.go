package index

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

const defaultTTL = 300

// zone is a compiled GslbZone.
type zone struct {
	object string
	apex   string
	slot   int
	ttl    uint32
	soa    *dns.SOA
	// negSOA is the SOA record for negative answers without its owner name:
	// type, class, TTL (the negative TTL), length and data.
	negSOA []byte
	ns     []dns.RR
	// glue is the addresses of the name servers inside the zone, each
	// name and type's records together (see rrsetsTogether).
	glue []dns.RR
	// signing is set when the zone is signed; dnskeys is then its DNSKEY
	// RRset.
	signing *zoneSigning
	dnskeys []dns.RR
}

func compileZone(z *v1.GslbZone, revision int64) (*zone, error) {
	spec := z.GetSpec()
	obj := z.GetMetadata().GetName()
	apex, err := canonical(spec.GetZone())
	if err != nil {
		return nil, fmt.Errorf("GslbZone %q field zone: %w", obj, err)
	}
	zn := &zone{object: obj, apex: apex, ttl: spec.GetDefaultTtl()}
	if zn.ttl == 0 {
		zn.ttl = defaultTTL
	}
	soa := spec.GetSoa()
	if soa == nil {
		return nil, fmt.Errorf("GslbZone %q: field soa is missing", obj)
	}
	serial := soa.GetSerial()
	if serial == 0 {
		serial = uint32(revision)
	}
	mname, rname := soa.GetMname(), soa.GetRname()
	if mname == "" && len(spec.GetNameServers()) > 0 {
		mname = spec.GetNameServers()[0].GetName()
	}
	if mname, err = nameServerName(mname, apex); err != nil {
		return nil, fmt.Errorf("GslbZone %q field soa.mname: %w", obj, err)
	}
	if rname == "" {
		rname = "hostmaster"
	}
	if rname, err = nameServerName(rname, apex); err != nil {
		return nil, fmt.Errorf("GslbZone %q field soa.rname: %w", obj, err)
	}
	zn.soa = &dns.SOA{
		Hdr: hdr(apex, dns.TypeSOA, zn.ttl), Ns: mname, Mbox: rname, Serial: serial,
		Refresh: soa.GetRefresh(), Retry: soa.GetRetry(), Expire: soa.GetExpire(), Minttl: soa.GetMinimum(),
	}
	neg := *zn.soa
	neg.Hdr.Name = "."
	neg.Hdr.Ttl = min(soa.GetMinimum(), zn.ttl)
	buf := make([]byte, 512)
	n, err := dns.PackRR(&neg, buf, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("GslbZone %q: pack SOA: %w", obj, err)
	}
	zn.negSOA = buf[1:n]
	for i, ns := range spec.GetNameServers() {
		name, err := nameServerName(ns.GetName(), apex)
		if err != nil {
			return nil, fmt.Errorf("GslbZone %q field name_servers[%d].name: %w", obj, i, err)
		}
		zn.ns = append(zn.ns, &dns.NS{Hdr: hdr(apex, dns.TypeNS, zn.ttl), Ns: name})
		for j, s := range ns.GetAddresses() {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("GslbZone %q field name_servers[%d].addresses[%d]: bad address %q: %w", obj, i, j, s, err)
			}
			if dns.IsSubDomain(apex, name) {
				zn.glue = append(zn.glue, addrRR(name, zn.ttl, a.Unmap()))
			}
		}
	}
	zn.glue = rrsetsTogether(zn.glue)
	return zn, nil
}

// rrsetsTogether orders rrs so that the records of each RRset (owner and
// type) come together, the RRsets in the order they first appear, each
// record once: an RRset is sent whole and holds no record twice (RFC 2181
// section 5), however a name server lists its addresses.
func rrsetsTogether(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for i, rr := range rrs {
		h := rr.Header()
		if slices.ContainsFunc(out, func(o dns.RR) bool { return sameRRset(o, h) }) {
			continue // placed with the first of its RRset
		}
		for _, o := range rrs[i:] {
			if sameRRset(o, h) && !slices.ContainsFunc(out, func(have dns.RR) bool { return dns.IsDuplicate(have, o) }) {
				out = append(out, o)
			}
		}
	}
	return out
}

// sameRRset says whether rr belongs to the RRset of h's owner and type.
func sameRRset(rr dns.RR, h *dns.RR_Header) bool {
	return rr.Header().Rrtype == h.Rrtype && strings.EqualFold(rr.Header().Name, h.Name)
}

// nameServerName resolves a name server name: absolute names may be outside
// the zone, relative ones are inside it.
func nameServerName(name, apex string) (string, error) {
	if len(name) > 0 && name[len(name)-1] == '.' {
		return canonical(name)
	}
	return inZone(name, apex)
}

// nsAddresses is the additional section of the zone's apex NS answer,
// from glue: per name and type, in the order they first appear, the
// RRset the index serves there, so that the addresses sent with the NS
// RRset are those a query at the name gets, a static record's included
// (RFC 2181 section 5: one RRset per name and type). In the signed form
// each such RRset is followed by its RRSIGs (RFC 4035 section 3.1.1: a
// signed RRset placed in the additional section goes with its RRSIGs).
// A name in a zone nested in this one sends that zone's RRset and
// signatures. Addresses below a zone cut, or of a name whose RRset is a
// GslbRecord's, are sent as the zone's name servers list them, unsigned.
func (z *zone) nsAddresses(names map[string]*node, signed bool) ([]dns.RR, error) {
	var out []dns.RR
	for i := 0; i < len(z.glue); {
		h := z.glue[i].Header()
		j := i + 1
		for j < len(z.glue) && sameRRset(z.glue[j], h) {
			j++
		}
		listed := z.glue[i:j]
		i = j
		var rs *rrset
		n := names[wireKey(h.Name)]
		if n != nil && n.cut == nil {
			rs = n.find(h.Rrtype)
		}
		if rs == nil || rs.rec != nil {
			out = append(out, listed...)
			continue
		}
		out = append(out, rs.rrs...)
		// A name in a zone nested in this one is that zone's to sign,
		// or to leave unsigned.
		if signed && n.zone.signing != nil {
			sigs, err := n.zone.signing.sign(rs.rrs)
			if err != nil {
				return nil, err
			}
			out = append(out, sigs...)
		}
	}
	return out, nil
}
