package lab

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// serviceCommunity is the community the service asks every PoP to send to
// every peer (lab.yaml's AnycastService announce).
const serviceCommunity = "64512:100"

// pathAttrs are the attributes a router has on one PoP's path to an
// anycast prefix, communities sorted.
type pathAttrs struct {
	asPath    string
	community string // "64496:200 64512:100"
	large     string // "64512:7:1"
	med       int    // -1: none
}

func (a pathAttrs) String() string {
	med := "none"
	if a.med >= 0 {
		med = fmt.Sprint(a.med)
	}
	return fmt.Sprintf("AS path [%s], communities [%s], large communities [%s], MED %s", a.asPath, a.community, a.large, med)
}

// peerAttrs is what lab.yaml has each PoP send to each router: the
// service's community everywhere, and on top, from the PoP's peer config,
// tokyo's 64496:200 to FRR and 64497:100, 64512:7:1 and MED 50 to BIRD,
// and newyork's one prepend to BIRD.
func peerAttrs(u upstream, pop string) pathAttrs {
	a := pathAttrs{asPath: distancePath(u, pop), community: serviceCommunity, med: -1}
	if pop == "tokyo" {
		switch u {
		case frr:
			a.community = sortedFields("64496:200 " + serviceCommunity)
		case bird:
			a.community = sortedFields("64497:100 " + serviceCommunity)
			a.large, a.med = "64512:7:1", 50
		}
	}
	return a
}

func sortedFields(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(f, " ")
}

// perPeerAttributes checks, with each router's own CLI, that the
// attributes a PoP's peer config asks for toward one router arrive there
// and not at the other, over both families: FRR's "show bgp ipvN unicast
// PREFIX json", BIRD's "show route all for ADDRESS".
func (r *labRun) perPeerAttributes(t *testing.T) {
	for _, v := range vantages {
		got, cli := r.l.pathAttrs(t, v)
		for _, pop := range pops {
			want := peerAttrs(v.up, pop)
			if g, ok := got[pop]; !ok {
				t.Errorf("%v: %v has no path from %s to %s", v, v.up, pop, v.fam.prefix)
			} else if g != want {
				t.Errorf("%v: %v's path from %s to %s: %v; want %v%s", v, v.up, pop, v.fam.prefix, g, want, misplaced(v.up, g))
			}
		}
		t.Logf("%v: %s:\n%s", v, cli.command, cli.out)
	}
}

// misplaced names the attributes in got that were meant for the other
// router: a per-peer export that reached the wrong peer.
func misplaced(u upstream, got pathAttrs) string {
	o := u.other()
	var wrong []string
	for _, c := range strings.Fields(peerAttrs(o, "tokyo").community) {
		if c != serviceCommunity && slices.Contains(strings.Fields(got.community), c) {
			wrong = append(wrong, "community "+c)
		}
	}
	if w := peerAttrs(o, "tokyo"); w.large != "" && got.large == w.large {
		wrong = append(wrong, "large community "+w.large)
	}
	if w := peerAttrs(o, "tokyo"); w.med >= 0 && got.med == w.med {
		wrong = append(wrong, fmt.Sprintf("MED %d", w.med))
	}
	if len(wrong) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s meant for %s)", strings.Join(wrong, ", "), o.name)
}

// cliOutput is a router command and what it printed, for the log.
type cliOutput struct{ command, out string }

// pathAttrs reads v's router's paths to v's anycast prefix by PoP, through
// the router's CLI, and returns the human form of the same command.
func (l *labEnv) pathAttrs(t *testing.T, v vantage) (map[string]pathAttrs, cliOutput) {
	t.Helper()
	got := map[string]pathAttrs{}
	switch v.up {
	case frr:
		for _, p := range l.frrPaths(t, v.fam, v.fam.prefix) {
			a := pathAttrs{asPath: p.asPath, community: sortedFields(p.community), large: sortedFields(p.large), med: -1}
			if p.med != nil {
				a.med = int(*p.med)
			}
			got[p.pop] = a
		}
		cmd := fmt.Sprintf("show bgp ipv%s unicast %s", v.fam.version, v.fam.prefix)
		return got, cliOutput{"vtysh -c '" + cmd + "'", l.vtysh(t, cmd)}
	case bird:
		for _, r := range l.birdRoutes(t, "for", v.fam.anycast) {
			got[r.pop()] = pathAttrs{asPath: r.asPath, community: sortedFields(r.community), large: sortedFields(r.large), med: r.med}
		}
		cmd := []string{"show", "route", "all", "for", v.fam.anycast}
		return got, cliOutput{"birdc " + strings.Join(cmd, " "), l.birdc(t, cmd...)}
	}
	t.Fatalf("no reader for router %v", v.up)
	return nil, cliOutput{}
}
