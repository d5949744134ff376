package lab

import (
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// routerView is what the router knows of the anycast prefix and its PoPs.
type routerView struct {
	best     string                 // the PoP of the best path
	kernel   string                 // the PoP the kernel route points to
	paths    map[string]pathView    // by PoP
	sessions map[string]sessionView // by PoP
}

type pathView struct {
	asPath     string
	lastUpdate int64 // epoch seconds
}

type sessionView struct {
	state       string
	upSince     int64 // epoch seconds
	established int   // sessions established since bgpd started
	updatesRecv int
}

// sameRouting reports how b differs from a in the routes and the sessions'
// lifetimes, ignoring message counters; empty when they agree. FRR derives
// its epoch times from uptimes, so they may differ by a second.
func (a routerView) sameRouting(b routerView) string {
	var diffs []string
	if a.best != b.best || a.kernel != b.kernel {
		diffs = append(diffs, fmt.Sprintf("best path %s, kernel route %s; was %s, %s", b.best, b.kernel, a.best, a.kernel))
	}
	for _, pop := range slices.Sorted(maps.Keys(popAddr)) {
		p, n := a.paths[pop], b.paths[pop]
		if p.asPath != n.asPath || !within1s(p.lastUpdate, n.lastUpdate) {
			diffs = append(diffs, fmt.Sprintf("%s path %v; was %v", pop, n, p))
		}
		s, m := a.sessions[pop], b.sessions[pop]
		if s.state != m.state || s.established != m.established || !within1s(s.upSince, m.upSince) {
			diffs = append(diffs, fmt.Sprintf("%s session %v; was %v", pop, m, s))
		}
	}
	return strings.Join(diffs, "; ")
}

func (v sessionView) String() string {
	return fmt.Sprintf("%s since %d, established %d times", v.state, v.upSince, v.established)
}

func within1s(a, b int64) bool { return a-b <= 1 && b-a <= 1 }

func (p pathView) String() string {
	return fmt.Sprintf("[%s] updated at %d", p.asPath, p.lastUpdate)
}

func (v routerView) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "best %s, kernel %s", v.best, v.kernel)
	for _, pop := range slices.Sorted(maps.Keys(v.paths)) {
		fmt.Fprintf(&b, "; %s path [%s]", pop, v.paths[pop].asPath)
	}
	for _, pop := range slices.Sorted(maps.Keys(v.sessions)) {
		s := v.sessions[pop]
		fmt.Fprintf(&b, "; %s session %s", pop, s.state)
	}
	return b.String()
}

// router reads the router's BGP table, sessions and kernel route.
func (l *labEnv) router(t *testing.T) routerView {
	t.Helper()
	var prefix struct {
		Paths []struct {
			ASPath     struct{ String string } `json:"aspath"`
			Bestpath   *struct{ Overall bool } `json:"bestpath"`
			LastUpdate struct{ Epoch int64 }   `json:"lastUpdate"`
			Peer       struct {
				PeerID string `json:"peerId"`
			} `json:"peer"`
		} `json:"paths"`
	}
	l.vtyshJSON(t, "show bgp ipv4 unicast 192.0.2.0/24 json", &prefix)
	var summary struct {
		Peers map[string]struct {
			State                      string `json:"state"`
			PeerUptimeEstablishedEpoch int64  `json:"peerUptimeEstablishedEpoch"`
			ConnectionsEstablished     int    `json:"connectionsEstablished"`
		} `json:"peers"`
	}
	l.vtyshJSON(t, "show bgp ipv4 unicast summary json", &summary)
	var neighbors map[string]struct {
		MessageStats struct {
			UpdatesRecv int `json:"updatesRecv"`
		} `json:"messageStats"`
	}
	l.vtyshJSON(t, "show bgp neighbors json", &neighbors)

	v := routerView{paths: map[string]pathView{}, sessions: map[string]sessionView{}}
	for _, p := range prefix.Paths {
		pop := popByAddr(p.Peer.PeerID)
		v.paths[pop] = pathView{asPath: p.ASPath.String, lastUpdate: p.LastUpdate.Epoch}
		if p.Bestpath != nil && p.Bestpath.Overall {
			v.best = pop
		}
	}
	for addr, s := range summary.Peers {
		v.sessions[popByAddr(addr)] = sessionView{
			state:       s.State,
			upSince:     s.PeerUptimeEstablishedEpoch,
			established: s.ConnectionsEstablished,
			updatesRecv: neighbors[addr].MessageStats.UpdatesRecv,
		}
	}
	v.kernel = l.kernelRoute(t)
	return v
}

func (l *labEnv) vtyshJSON(t *testing.T, command string, v any) {
	t.Helper()
	out, err := exec.Command("vtysh", "--vty_socket", filepath.Join(l.dir, "frr", "run"), "-c", command).Output()
	if err != nil {
		t.Fatalf("vtysh -c %q: %v", command, err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("vtysh -c %q: %v in %.200q", command, err, out)
	}
}

// kernelRoute is the PoP the router's kernel sends the anycast prefix to,
// "none" when it has no route.
func (l *labEnv) kernelRoute(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", l.ns("router"), "-j", "route", "show", "192.0.2.0/24").Output()
	if err != nil {
		t.Fatalf("ip route in the router: %v", err)
	}
	var routes []struct {
		Gateway string `json:"gateway"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		t.Fatalf("ip -j route: %v in %q", err, out)
	}
	if len(routes) == 0 {
		return "none"
	}
	return popByAddr(routes[0].Gateway)
}
