package index

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// A signed zone's answers are signed when the index is built: every answer
// the index can give (static RRsets, each distinct GSLB answer, NODATA and
// ANY) gets a second packed form with its RRSIGs and, when negative, the
// NSEC records that prove it, and a query with the DO bit is answered from
// that form. NXDOMAIN is assembled at query time from pre-signed pieces:
// the SOA, the NSEC covering the name and the one covering the wildcard at
// its closest encloser. Nothing is signed on the query path.

// zoneSigning is what a signed zone's answers are signed with.
type zoneSigning struct {
	signer *dnssec.Signer
	// at is when the zone's signatures were made: kept from the previous
	// index until they must be refreshed, so that reused answers and new
	// ones expire together.
	at time.Time
	// id sums up what the signatures depend on beside the RRsets (the
	// signing keys, at), for record reuse; the SOA serial, which signed
	// negative answers carry, is put in by reuse (withSerial).
	id string
	// sigs caches signatures by RRset, for the RRsets many answers share
	// (the SOA, NSEC records) and, carried to the next index, for the
	// answers it packs again.
	sigs map[string][]dns.RR
	// made counts the RRsets this build signed (not found in sigs).
	made int
	// chain is the zone's NSEC chain, and links the chain packed for
	// NXDOMAIN answers, in canonical order of their lower-case wire names.
	chain *dnssec.Chain
	links []nsecLink
	// soa is the SOA (negative TTL) and its RRSIGs, packed with the apex's
	// full name; soaRRs counts them.
	soa    []byte
	soaRRs int
}

// nsecLink is one NSEC of a zone's chain, packed with its RRSIG.
type nsecLink struct {
	owner []byte // lower-case wire name
	rrs   []byte
	// n counts the records in rrs.
	n int
}

// ResignAt is when the signatures of the index's signed zones must be
// made again (a build after it signs anew); zero when no zone is signed.
func (ix *Index) ResignAt() time.Time { return ix.resignAt }

// SignedAt is the latest time the index's signed zones were signed at,
// on the wall clock: a build before it (the clock set back) signs anew.
// Zero when no zone is signed.
func (ix *Index) SignedAt() time.Time { return ix.signedAt }

// UnsignedZones are the apexes of the zones the index answers unsigned,
// sorted.
func (ix *Index) UnsignedZones() []string { return ix.zonesSigned(false) }

// SignedZones are the apexes of the zones the index answers signed,
// sorted.
func (ix *Index) SignedZones() []string { return ix.zonesSigned(true) }

func (ix *Index) zonesSigned(signed bool) []string {
	var out []string
	for _, z := range ix.zones {
		if (z.signing != nil) == signed {
			out = append(out, z.apex)
		}
	}
	slices.Sort(out)
	return out
}

// startSigning sets up zone z's signing when opts has a signer for it,
// taking the signing time and signatures of the previous index's zone
// while they are fresh and made with the same keys, and not after now (a
// clock set back: their inception may be ahead of every validator's).
func startSigning(z *zone, prev *Index, opts Options, now time.Time) error {
	s := opts.Signers[z.apex]
	if s == nil {
		return nil
	}
	// Signatures carry wall-clock times: compare on the wall clock, which
	// a monotonic reading would hide being set back or forward.
	now = now.Round(0)
	zs := &zoneSigning{signer: s, at: now, sigs: map[string][]dns.RR{}}
	var tags []string
	for _, k := range s.Keys {
		if k.Published(now) {
			tags = append(tags, fmt.Sprintf("%d:%t", k.TagAt(now), k.Active(now)))
		}
	}
	slices.Sort(tags)
	keys := strings.Join(tags, ",")
	if prev != nil {
		if pz := prev.zones[wireKey(z.apex)]; pz != nil && pz.signing != nil && pz.signing.keys() == keys && !now.Before(pz.signing.at) && now.Before(s.RefreshAt(pz.signing.at)) {
			zs.at, zs.sigs = pz.signing.at, pz.signing.sigs
		}
	}
	zs.id = fmt.Sprintf("%s@%d", keys, zs.at.Unix())
	z.signing = zs
	dnskeys := s.DNSKEYs(now, z.ttl)
	if len(dnskeys) == 0 {
		return fmt.Errorf("zone %q: no published DNSSEC key", z.apex)
	}
	z.dnskeys = dnskeys
	return nil
}

// keys is the part of id naming the keys.
func (zs *zoneSigning) keys() string {
	k, _, _ := strings.Cut(zs.id, "@")
	return k
}

// sigKey is an RRset's key in the signature cache.
func sigKey(rrset []dns.RR) string {
	texts := make([]string, len(rrset))
	for i, rr := range rrset {
		texts[i] = rr.String()
	}
	slices.Sort(texts)
	return strings.Join(texts, "\n")
}

// sign returns the RRSIGs of an RRset, made once per zone signing time.
func (zs *zoneSigning) sign(rrset []dns.RR) ([]dns.RR, error) {
	key := sigKey(rrset)
	if sigs, ok := zs.sigs[key]; ok {
		return sigs, nil
	}
	sigs, err := zs.signer.Sign(rrset, zs.at)
	if err != nil {
		return nil, err
	}
	zs.made++
	zs.sigs[key] = sigs
	return sigs, nil
}

// withSigs is a section with the RRSIGs of each of its RRsets after it.
// The additional section is the caller's to sign (see nsAddresses):
// a referral's glue is not the zone's.
func (zs *zoneSigning) withSigs(section []dns.RR) ([]dns.RR, error) {
	var out []dns.RR
	for i := 0; i < len(section); {
		h := section[i].Header()
		j := i + 1
		for j < len(section) && section[j].Header().Rrtype == h.Rrtype && strings.EqualFold(section[j].Header().Name, h.Name) {
			j++
		}
		sigs, err := zs.sign(section[i:j])
		if err != nil {
			return nil, err
		}
		out = append(out, section[i:j]...)
		out = append(out, sigs...)
		i = j
	}
	return out, nil
}

// signAnswer gives a, packed from the sections given, its signed form:
// every RRset in the answer and authority sections followed by its
// RRSIGs, and, when denial is set, the NSEC records that prove the
// negative answer.
func (z *zone) signAnswer(a *answer, name string, rcode int, an, ns, extra []dns.RR, denial []dns.RR) error {
	zs := z.signing
	if zs == nil {
		return nil
	}
	an, err := zs.withSigs(an)
	if err != nil {
		return err
	}
	if ns, err = zs.withSigs(append(slices.Clone(ns), denial...)); err != nil {
		return err
	}
	s, err := pack(name, rcode, an, ns, extra)
	if err != nil {
		return err
	}
	a.signed, a.signedExtraAt = s.msg, s.extraAt
	return nil
}

// buildChain builds a signed zone's NSEC chain over the names that hold
// data, and packs the pieces of its NXDOMAIN answers.
func (ix *Index) buildChain(z *zone) error {
	zs := z.signing
	types := map[string][]uint16{}
	// Names below a cut belong to the child zone (glue included).
	ix.markCuts()
	for _, n := range ix.names {
		if n.zone != z || len(n.rrsets) == 0 || (n.cut != nil && n.cut != n) {
			continue
		}
		for _, rs := range n.rrsets {
			// At a cut the zone holds only the NS and DS RRsets:
			// anything else there is the child's, and its bit must
			// be clear (RFC 4035 section 2.3).
			if n.cut == n && rs.qtype != dns.TypeNS && rs.qtype != dns.TypeDS {
				continue
			}
			types[n.name] = append(types[n.name], rs.qtype)
		}
	}
	zs.chain = dnssec.NewChain(z.apex, types, z.negTTL())
	zs.links = make([]nsecLink, len(zs.chain.NSEC))
	for i, nsec := range zs.chain.NSEC {
		rrs, n, err := zs.packed([]dns.RR{nsec})
		if err != nil {
			return err
		}
		var lc [255]byte
		zs.links[i] = nsecLink{owner: bytes.Clone(lowerWire(&lc, []byte(wireKey(nsec.Hdr.Name)))), rrs: rrs, n: n}
	}
	neg := *z.soa
	neg.Hdr.Ttl = z.negTTL()
	soa, n, err := zs.packed([]dns.RR{&neg})
	if err != nil {
		return err
	}
	zs.soa, zs.soaRRs = soa, n
	return nil
}

// packed packs an RRset and its RRSIGs without compression, and counts
// them.
func (zs *zoneSigning) packed(rrset []dns.RR) ([]byte, int, error) {
	rrs, err := zs.withSigs(rrset)
	if err != nil {
		return nil, 0, err
	}
	buf := make([]byte, 4096)
	off := 0
	for _, rr := range rrs {
		if off, err = dns.PackRR(rr, buf, off, nil, false); err != nil {
			return nil, 0, fmt.Errorf("pack %s: %w", rr.Header().Name, err)
		}
	}
	return buf[:off:off], len(rrs), nil
}

// negTTL is the TTL of negative answers: the SOA minimum or its TTL,
// whichever is less (RFC 2308, RFC 9077).
func (z *zone) negTTL() uint32 { return min(z.soa.Minttl, z.soa.Hdr.Ttl) }

// denial is the NSEC that proves a node has no data of type t: its own,
// or, for an empty non-terminal, the one covering it. When the node's NSEC
// lists t (a GSLB record with nothing to answer), an NSEC of the node
// without t is made.
func (z *zone) denial(n *node, t uint16) []dns.RR {
	zs := z.signing
	if zs == nil {
		return nil
	}
	nsec := zs.chain.Covering(n.name)
	if nsec == nil {
		return nil
	}
	if strings.EqualFold(nsec.Hdr.Name, n.name) && slices.Contains(nsec.TypeBitMap, t) {
		c := *nsec
		c.TypeBitMap = slices.DeleteFunc(slices.Clone(nsec.TypeBitMap), func(x uint16) bool { return x == t })
		nsec = &c
	}
	return []dns.RR{nsec}
}

// covering is the index of the link whose NSEC covers (or owns) the
// lower-case wire name.
func (zs *zoneSigning) covering(lc []byte) int {
	// A search by hand: slices.BinarySearchFunc makes lc escape, and the
	// query path must not allocate.
	lo, hi := 0, len(zs.links)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch c := compareWire(zs.links[mid].owner, lc); {
		case c == 0:
			return mid
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	if lo == 0 {
		return len(zs.links) - 1
	}
	return lo - 1
}

// compareWire orders two lower-case wire names canonically (RFC 4034
// section 6.1) without allocating.
func compareWire(a, b []byte) int {
	var la, lb [128]uint8
	na, nb := labelOffsets(a, &la), labelOffsets(b, &lb)
	for i := 1; i <= na && i <= nb; i++ {
		x, y := a[la[na-i]:], b[lb[nb-i]:]
		if c := bytes.Compare(x[1:1+x[0]], y[1:1+y[0]]); c != 0 {
			return c
		}
	}
	return na - nb
}

// labelOffsets stores the offsets of a wire name's labels (the root left
// out) and returns how many there are.
func labelOffsets(name []byte, dst *[128]uint8) int {
	n := 0
	for off := 0; off < len(name) && name[off] != 0 && n < len(dst); off += int(name[off]) + 1 {
		dst[n] = uint8(off)
		n++
	}
	return n
}

// signedNXDomain answers a name that does not exist in signed zone z: the
// SOA, the NSEC covering the name and the one covering the wildcard at
// the closest encloser, each with its RRSIG.
func (ix *Index) signedNXDomain(dst []byte, q *wire.Query, z *zone, lc []byte, maxSize int) []byte {
	zs := z.signing
	// The closest encloser is the longest existing ancestor of the name.
	enc := len(lc)
	for off := int(lc[0]) + 1; off < len(lc); off += int(lc[off]) + 1 {
		if ix.names[string(lc[off:])] != nil {
			enc = off
			break
		}
	}
	var wbuf [257]byte
	wbuf[0], wbuf[1] = 1, '*'
	wild := append(wbuf[:2], lc[enc:]...)
	i, j := zs.covering(lc), zs.covering(wild)
	size := 12 + q.NameLen + 4 + len(zs.soa) + len(zs.links[i].rrs) + wire.OPTLen(q)
	nsecs := zs.soaRRs + zs.links[i].n
	if j != i {
		size += len(zs.links[j].rrs)
		nsecs += zs.links[j].n
	}
	if size > maxSize {
		return truncated(dst, q, wire.RcodeNXDomain)
	}
	b := dst[:12]
	wire.PutHeader(b, q, true, wire.RcodeNXDomain, 1, 0, uint16(nsecs), arCount(q))
	b = wire.AppendQuestion(b, q)
	b = append(b, zs.soa...)
	b = append(b, zs.links[i].rrs...)
	if j != i {
		b = append(b, zs.links[j].rrs...)
	}
	if q.EDNS {
		b = wire.AppendOPT(b, q, wire.RcodeNXDomain, 0)
	}
	return b
}
