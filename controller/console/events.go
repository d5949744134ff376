package console

import (
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// maxEvents is how many events the timeline keeps.
const maxEvents = 300

// event is one entry of the timeline.
type event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // health, session, prefix, drain, budget, origin, apply, action
	Pop  string    `json:"pop,omitempty"`
	Text string    `json:"text"`
}

// diffViews lists what changed from prev to next as timeline events.
func diffViews(prev, next *view, at time.Time) []event {
	var out []event
	add := func(kind, pop, format string, args ...any) {
		out = append(out, event{At: at, Kind: kind, Pop: pop, Text: fmt.Sprintf(format, args...)})
	}
	old := map[string]popView{}
	for _, p := range prev.Pops {
		old[p.Name] = p
	}
	for _, p := range next.Pops {
		o, ok := old[p.Name]
		if !ok {
			add("apply", p.Name, "PoP %s appeared: %s", p.Name, p.Step)
			continue
		}
		if o.Step != p.Step {
			add("health", p.Name, "%s: %s → %s (%s)", p.Name, o.Step, p.Step, p.Why)
		}
		if o.DrainStep != p.DrainStep {
			add("drain", p.Name, "%s: drain step %s → %s", p.Name, o.DrainStep, p.DrainStep)
		}
		checks := map[string]checkView{}
		for _, c := range o.Checks {
			checks[c.Service] = c
		}
		for _, c := range p.Checks {
			if oc, ok := checks[c.Service]; ok && oc.Healthy != c.Healthy {
				add("health", p.Name, "%s: %s check %s (%s)", p.Name, c.Service, healthWord(c.Healthy), c.LastResult)
			}
		}
		sessions := map[string]string{}
		for _, x := range o.Sessions {
			sessions[x.Address] = x.State
		}
		for _, x := range p.Sessions {
			if st, ok := sessions[x.Address]; ok && st != x.State {
				add("session", p.Name, "%s: session %s %s → %s %s", p.Name, x.Address, st, x.State, x.LastProblem)
			}
		}
		prefixes := map[string]bool{}
		for _, x := range o.Prefixes {
			prefixes[x.Prefix] = x.Announced
		}
		for _, x := range p.Prefixes {
			if was, ok := prefixes[x.Prefix]; ok && was != x.Announced {
				word := "withdrawn"
				if x.Announced {
					word = "announced"
				}
				add("prefix", p.Name, "%s: %s (%s) %s: %s", p.Name, x.Prefix, x.Service, word, x.Reason)
			}
		}
	}
	held := map[string][]string{}
	for _, s := range prev.Services {
		held[s.Name] = s.Held
	}
	for _, s := range next.Services {
		if h, ok := held[s.Name]; ok && !slices.Equal(h, s.Held) {
			if len(s.Held) == 0 {
				add("budget", "", "%s: budget hold released", s.Name)
			} else {
				add("budget", "", "%s: budget holds %s announcing despite failing checks (minimum %d)", s.Name, strings.Join(s.Held, ", "), s.Min)
			}
		}
	}
	origins := map[string]bool{}
	for _, o := range prev.Origins {
		origins[o.Name] = o.Healthy
	}
	for _, o := range next.Origins {
		if h, ok := origins[o.Name]; ok && h != o.Healthy {
			add("origin", "", "origin %s %s by quorum (%s)", o.Name, healthWord(o.Healthy), o.Reason)
		}
	}
	return out
}

func healthWord(ok bool) string {
	if ok {
		return "healthy"
	}
	return "down"
}

// objectVersions maps every desired-state object to its resource version.
func objectVersions(s *resource.State) map[string]int64 {
	out := map[string]int64{}
	for _, o := range s.Objects() {
		out[resource.RefOf(o).String()] = resource.Meta(o).GetResourceVersion()
	}
	return out
}

// diffObjects describes an apply: the objects created, changed or deleted,
// and who wrote them (the history records after prevRev up to rev).
func diffObjects(prev, next map[string]int64, prevRev, rev int64, at time.Time, history []*v1.HistoryEntry) []event {
	var changed []string
	for ref, v := range next {
		if pv, ok := prev[ref]; !ok {
			changed = append(changed, "created "+ref)
		} else if pv != v {
			changed = append(changed, "changed "+ref)
		}
	}
	for ref := range prev {
		if _, ok := next[ref]; !ok {
			changed = append(changed, "deleted "+ref)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	slices.Sort(changed)
	if len(changed) > 8 {
		changed = append(changed[:8], fmt.Sprintf("and %d more", len(changed)-8))
	}
	return []event{{At: at, Kind: "apply", Text: fmt.Sprintf("desired state revision %d: %s%s", rev, strings.Join(changed, "; "), writers(history, prevRev, rev))}}
}

// writers says who made the writes of revisions (prevRev, rev]: each
// caller and role once, with the operations, e.g. " (by alice, admin:
// apply)"; empty when history holds none of them.
func writers(history []*v1.HistoryEntry, prevRev, rev int64) string {
	var who []string
	for _, e := range slices.Backward(history) {
		if e.GetRevision() <= prevRev || e.GetRevision() > rev {
			continue
		}
		w := e.GetActor()
		if r := e.GetRole(); r != "" {
			w += ", " + r
		}
		w += ": " + e.GetOperation()
		if !slices.Contains(who, w) {
			who = append(who, w)
		}
	}
	if len(who) == 0 {
		return ""
	}
	return " (by " + strings.Join(who, "; ") + ")"
}
