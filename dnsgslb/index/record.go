package index

import (
	"net"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// record is a compiled GslbRecord.
type record struct {
	object      string
	node        *node
	qtype       uint16
	policy      v1.Policy
	answers     int
	ttl         uint32
	rules       []rule
	whenAllDown v1.AllDownBehavior
	cands       []candidate
	// https is the HTTPS answer of a record of that type without its
	// address hints.
	https *dns.HTTPS
	// missing names origins or PoPs the record refers to that the snapshot
	// does not hold.
	missing []string

	// profKey is the record's profile key (appendProfileKey).
	profKey string
	// spec is the record's GslbRecordSpec, marshalled deterministically:
	// the next build takes the record as parsed when it is unchanged (see
	// unchanged).
	spec string

	// built is what compileRecord makes of the record, or takes from the
	// previous index.
	built
	// from is, during a build, the previous index's record this one was
	// taken from as parsed (see retake); nil otherwise.
	from *record
}

// built is a record's compiled form.
type built struct {
	// key is the record key (recordKey); keyLive is whether it was made
	// for a record answered live.
	key     string
	keyLive bool
	// hashed is true when the answer depends on the client subnet's bucket
	// (weighted policy, or a traffic dial below 100).
	hashed bool
	// prof maps a location class to the record class: classes that rank
	// the candidates the same way share one. rcs holds the answers of each
	// record class.
	prof *profile
	rcs  []recordClass
	// live is set when the record is answered at query time (see live);
	// prof, rcs and scopes are then unused.
	live *live
	// scopes are, per family (0 IPv4, 1 IPv6) and prefix-table leaf, the
	// prefix length at which this record's answer stops varying; nil when
	// the answer does not depend on location at all.
	scopes [2][]uint8
	// locationFree is true when every location class gets the same answers.
	locationFree bool
	// placeKey names the record's scope tables among the index's
	// placeScopes when it is ranked by residency rule alone.
	placeKey string
}

// recordClass is one way of ranking the record's candidates.
type recordClass struct {
	// answers has one answer per bucket when the record is hashed and the
	// answer varies by bucket, else one answer.
	answers []*answer
}

// rule is a compiled residency rule.
type rule struct {
	continents map[string]bool
	countries  map[string]bool
	allowed    map[string]bool
	// text is the rule as written, for explanations.
	text string
	// key is the rule in a profile key: text reads the same for a
	// continent and a country of one code (AS is Asia and American
	// Samoa).
	key string
}

func (r *rule) matches(cl *client) bool {
	loc := cl.class.Location
	return (loc.Continent != "" && r.continents[loc.Continent]) || (loc.Country != "" && r.countries[loc.Country])
}

// pick returns the answer for a client of the class with the given leaf
// scope and address, and the ECS scope of that answer.
func (r *record) pick(class int32, v6 bool, leaf int, leafBits uint8, addr netip.Addr) (*answer, uint8) {
	rc := &r.rcs[r.prof.rc(class)]
	scope := leafBits
	if s := r.scopes[b2i(v6)]; s != nil {
		scope = s[leaf]
	} else if r.locationFree {
		scope = 0
	}
	if len(rc.answers) == 1 {
		return rc.answers[0], scope
	}
	return rc.answers[Bucket(addr)], max(scope, bucketBits(v6))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addrsOf flattens ranked candidates into at most n addresses, or, with
// perCandidate, every address of the first n candidates (the hints of an
// HTTPS answer). An address already taken is passed over, and the next
// ranked candidate's fill its place: an RRset holds a record once (RFC
// 2181 section 5), and a load balancer registered as two candidates still
// leaves room for a second one; with perCandidate, a candidate whose every
// address is taken does not count. A name origin ranked first is answered
// alone, with its name (a CNAME stands alone); ranked later it is passed
// over.
func addrsOf(cands []candidate, order []int, n int, perCandidate bool) ([]netip.Addr, string) {
	var out []netip.Addr
	taken := 0 // candidates answered
	for _, i := range order {
		c := &cands[i]
		if c.host != "" {
			if taken == 0 {
				return nil, c.host
			}
			continue
		}
		if perCandidate && taken == n || !perCandidate && len(out) == n {
			break
		}
		had := len(out)
		for _, a := range c.addrs {
			if !perCandidate && len(out) == n {
				break
			}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
		if len(out) > had {
			taken++
		}
	}
	return out, ""
}

// httpsRR is the record's HTTPS answer with the addresses as its hints.
func (r *record) httpsRR(addrs []netip.Addr) *dns.HTTPS {
	rr := dns.Copy(r.https).(*dns.HTTPS)
	rr.Hdr = hdr(r.node.name, dns.TypeHTTPS, r.ttl)
	var v4, v6 []net.IP
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a.AsSlice())
		} else {
			v6 = append(v6, a.AsSlice())
		}
	}
	if len(v4) > 0 {
		rr.Value = append(rr.Value, &dns.SVCBIPv4Hint{Hint: v4})
	}
	if len(v6) > 0 {
		rr.Value = append(rr.Value, &dns.SVCBIPv6Hint{Hint: v6})
	}
	slices.SortStableFunc(rr.Value, func(a, b dns.SVCBKeyValue) int { return int(a.Key()) - int(b.Key()) })
	return rr
}
