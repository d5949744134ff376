package index

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// prep is the location-dependent half of selection: residency, health and
// the policy's base ranking. Classes with equal preps get equal answers.
type prep struct {
	rcode  int
	nodata bool
	// allDown is true when no allowed candidate is healthy and the record
	// fails open.
	allDown bool
	base    []int
	how     string
}

func (p prep) key() string {
	return fmt.Sprint(p.rcode, p.nodata, p.allDown, p.base)
}

// trace collects why each candidate was kept or dropped; nil when
// compiling, where nobody reads it.
type trace struct {
	cands []CandidateExplanation
	notes []string
}

func (t *trace) drop(i int, reason string) {
	if t != nil && t.cands[i].Excluded == "" {
		t.cands[i].Excluded = reason
	}
}

func (t *trace) note(format string, args ...any) {
	if t != nil {
		t.notes = append(t.notes, fmt.Sprintf(format, args...))
	}
}

// prepare runs residency, health and the base ranking for a client.
func (r *record) prepare(cl *client, tr *trace) prep {
	var allowed []int
	for i := range r.cands {
		if !r.cands[i].usable() {
			tr.drop(i, fmt.Sprintf("no %s address", typeName(r.qtype)))
			continue
		}
		allowed = append(allowed, i)
	}
	for _, ru := range r.rules {
		if !ru.matches(cl) {
			continue
		}
		tr.note("residency rule %s applies", ru.text)
		allowed = slices.DeleteFunc(allowed, func(i int) bool {
			if !ru.allowed[r.cands[i].name] {
				tr.drop(i, "residency: not allowed by rule "+ru.text)
				return true
			}
			return false
		})
		break
	}
	var healthy []int
	for _, i := range allowed {
		if r.cands[i].healthy {
			healthy = append(healthy, i)
		} else {
			tr.drop(i, "unhealthy: "+r.cands[i].healthReason)
		}
	}
	if len(healthy) > 0 {
		base, how := rankBase(r.policy, r.cands, healthy, cl)
		return prep{base: base, how: how}
	}
	switch r.whenAllDown {
	case v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA:
		tr.note("every allowed candidate is down: whenAllDown NODATA")
		return prep{nodata: true}
	case v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL:
		tr.note("every allowed candidate is down: whenAllDown SERVFAIL")
		return prep{rcode: 2}
	}
	if len(allowed) == 0 {
		tr.note("no allowed candidate: NODATA")
		return prep{nodata: true}
	}
	tr.note("every allowed candidate is down: whenAllDown FAIL_OPEN answers with all of them")
	if tr != nil {
		for _, i := range allowed {
			tr.cands[i].Excluded = ""
			tr.cands[i].Note = "unhealthy, kept by fail-open"
		}
	}
	base, how := rankBase(r.policy, r.cands, allowed, cl)
	return prep{base: base, how: how, allDown: true}
}

// finish applies the bucket-dependent steps (weights, traffic dial) and
// takes the first N addresses, or the name of a name origin ranked first.
// from are the candidates answered, in rank order, appended to buf[:0]:
// those that added an address, or the name origin.
func (r *record) finish(p prep, bucket int, tr *trace, buf []int) (_ []netip.Addr, host string, from []int) {
	from = buf[:0]
	if p.rcode != 0 || p.nodata {
		return nil, "", from
	}
	order := p.base
	if r.policy == v1.Policy_POLICY_WEIGHTED {
		order = weightedOrder(r.cands, order, bucket)
	}
	order, spilled := applyDial(r.cands, order, bucket)
	addrs, host := addrsOf(r.cands, order, r.answers, r.qtype == dns.TypeHTTPS)
	// The answer's addresses are those of the first candidates in order,
	// passing over name origins and addresses already taken (see
	// addrsOf): a candidate is answered when it holds one no candidate
	// ranked before it holds.
	for k, i := range order {
		c := &r.cands[i]
		if host != "" {
			if c.host == host {
				from = append(from, i)
				break
			}
			continue
		}
		if slices.ContainsFunc(c.addrs, func(a netip.Addr) bool {
			return slices.Contains(addrs, a) && !slices.ContainsFunc(order[:k], func(e int) bool { return slices.Contains(r.cands[e].addrs, a) })
		}) {
			from = append(from, i)
		}
	}
	if tr != nil {
		for rank, i := range order {
			c := &tr.cands[i]
			c.Rank = rank + 1
			c.RankedBy = p.how
			if r.policy == v1.Policy_POLICY_WEIGHTED {
				c.RankedBy = fmt.Sprintf("weight %d at client-subnet bucket %d", r.cands[i].weight, bucket)
			}
			if slices.Contains(spilled, i) {
				c.Note = strings.Join(slices.DeleteFunc([]string{c.Note,
					fmt.Sprintf("traffic dial %d%%: bucket %d spills to the next choice", r.cands[i].dial, bucket)},
					func(s string) bool { return s == "" }), "; ")
			}
			c.Answered = slices.Contains(from, i)
		}
	}
	return addrs, host, from
}
