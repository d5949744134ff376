package dnssec

import (
	"bytes"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Compare orders two names canonically (RFC 4034 section 6.1): by their
// labels from the root down, each compared as lower-case octets, a name
// before the names below it.
func Compare(a, b string) int {
	return compareLabels(canonicalLabels(a), canonicalLabels(b))
}

// compareLabels orders two names by their canonical labels (see Compare).
func compareLabels(la, lb [][]byte) int {
	for i := 0; i < len(la) && i < len(lb); i++ {
		x, y := la[len(la)-1-i], lb[len(lb)-1-i]
		if c := bytes.Compare(x, y); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// canonicalLabels are a name's labels, lower case, unescaped.
func canonicalLabels(name string) [][]byte {
	buf := make([]byte, 255)
	n, err := dns.PackDomainName(dns.CanonicalName(name), buf, 0, nil, false)
	if err != nil {
		// Not a valid name: order it by its text.
		return [][]byte{[]byte(strings.ToLower(name))}
	}
	var out [][]byte
	for off := 0; off < n && buf[off] != 0; off += int(buf[off]) + 1 {
		out = append(out, buf[off+1:off+1+int(buf[off])])
	}
	return out
}

// Chain is a zone's NSEC chain: one NSEC per name that holds records, in
// canonical order, each naming the next and the types at its owner.
type Chain struct {
	NSEC []*dns.NSEC
	// owned maps each owner (canonical name) to its NSEC: most names
	// looked up hold records, and a map finds them without the canonical
	// comparisons of a search.
	owned map[string]*dns.NSEC
}

// NewChain builds the NSEC chain of a zone whose names hold the types
// given (RRSIG and NSEC are added to each). ttl is the NSEC TTL: the
// SOA's minimum, or its TTL if smaller (RFC 9077).
func NewChain(apex string, types map[string][]uint16, ttl uint32) *Chain {
	// Each name's labels are taken once, not at every comparison.
	type named struct {
		name   string
		labels [][]byte
	}
	sorted := make([]named, 0, len(types))
	for n := range types {
		c := dns.CanonicalName(n)
		sorted = append(sorted, named{c, canonicalLabels(c)})
	}
	slices.SortFunc(sorted, func(a, b named) int { return compareLabels(a.labels, b.labels) })
	names := make([]string, len(sorted))
	for i := range sorted {
		names[i] = sorted[i].name
	}
	names = slices.Compact(names)
	c := &Chain{NSEC: make([]*dns.NSEC, len(names)), owned: make(map[string]*dns.NSEC, len(names))}
	for i, n := range names {
		ts := append(slices.Clone(types[n]), dns.TypeRRSIG, dns.TypeNSEC)
		slices.Sort(ts)
		ts = slices.Compact(ts)
		c.NSEC[i] = &dns.NSEC{
			Hdr:        dns.RR_Header{Name: n, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
			NextDomain: names[(i+1)%len(names)],
			TypeBitMap: ts,
		}
		c.owned[n] = c.NSEC[i]
	}
	return c
}

// Covering returns the NSEC whose owner is the name, or else the one
// whose span covers it (owner before the name, next after it, or the last
// NSEC, whose next is the apex).
func (c *Chain) Covering(name string) *dns.NSEC {
	if len(c.NSEC) == 0 {
		return nil
	}
	if n := c.owned[dns.CanonicalName(name)]; n != nil {
		return n
	}
	i, found := slices.BinarySearchFunc(c.NSEC, name, func(n *dns.NSEC, name string) int { return Compare(n.Hdr.Name, name) })
	if found {
		return c.NSEC[i]
	}
	if i == 0 {
		return c.NSEC[len(c.NSEC)-1]
	}
	return c.NSEC[i-1]
}
