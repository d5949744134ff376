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

// routerView is what FRR knows of the IPv4 anycast prefix and its PoPs.
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

// router reads FRR's paths to the IPv4 anycast prefix, its sessions and
// its kernel route.
func (l *labEnv) router(t *testing.T) routerView {
	t.Helper()
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
	for _, p := range l.frrPaths(t, ipv4, ipv4.prefix) {
		v.paths[p.pop] = pathView{asPath: p.asPath, lastUpdate: p.lastUpdate}
		if p.best {
			v.best = p.pop
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
	v.kernel = l.kernelRoute(t, frr4)
	return v
}

// frrPath is one of FRR's paths to a prefix.
type frrPath struct {
	pop        string // the PoP it came from (its address if no PoP's)
	peer       string // the neighbour's address
	asPath     string
	best       bool
	lastUpdate int64  // epoch seconds
	stale      bool   // kept for a neighbour in graceful restart
	community  string // "64496:200 64512:100"
	large      string // large communities: "64512:7:1"
	med        *int64 // nil when the path has none
}

// frrPaths reads FRR's paths to prefix, none when it has no route.
func (l *labEnv) frrPaths(t *testing.T, f family, prefix string) []frrPath {
	t.Helper()
	var out struct {
		Paths []struct {
			ASPath     struct{ String string } `json:"aspath"`
			Bestpath   *struct{ Overall bool } `json:"bestpath"`
			LastUpdate struct{ Epoch int64 }   `json:"lastUpdate"`
			Peer       struct {
				PeerID string `json:"peerId"`
			} `json:"peer"`
			Stale          bool                    `json:"stale"`
			Community      struct{ String string } `json:"community"`
			LargeCommunity struct{ String string } `json:"largeCommunity"`
			Med            *int64                  `json:"metric"` // the MED
		} `json:"paths"`
	}
	l.vtyshJSON(t, fmt.Sprintf("show bgp ipv%s unicast %s json", f.version, prefix), &out)
	var paths []frrPath
	for _, p := range out.Paths {
		paths = append(paths, frrPath{
			pop:        popByAddr(p.Peer.PeerID),
			peer:       p.Peer.PeerID,
			asPath:     p.ASPath.String,
			best:       p.Bestpath != nil && p.Bestpath.Overall,
			lastUpdate: p.LastUpdate.Epoch,
			stale:      p.Stale,
			community:  p.Community.String,
			large:      p.LargeCommunity.String,
			med:        p.Med,
		})
	}
	return paths
}

// vtysh runs one vtysh command against the lab's FRR and returns what it
// printed.
func (l *labEnv) vtysh(t *testing.T, command string) string {
	t.Helper()
	out, err := exec.Command("vtysh", "--vty_socket", filepath.Join(l.dir, "frr", "run"), "-c", command).Output()
	if err != nil {
		t.Fatalf("vtysh -c %q: %v", command, err)
	}
	return string(out)
}

func (l *labEnv) vtyshJSON(t *testing.T, command string, v any) {
	t.Helper()
	out := []byte(l.vtysh(t, command))
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("vtysh -c %q: %v in %.200q", command, err, out)
	}
}

// kernelRoute is the PoP v's router's kernel sends v's anycast prefix to,
// "none" when it has no route.
func (l *labEnv) kernelRoute(t *testing.T, v vantage) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", l.ns(v.up.ns), "-"+v.fam.version, "-j", "route", "show", v.fam.prefix).Output()
	if err != nil {
		t.Fatalf("ip route in %s (%v): %v", v.up.ns, v, err)
	}
	var routes []struct {
		Gateway string `json:"gateway"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		t.Fatalf("ip -j route in %s: %v in %q", v.up.ns, err, out)
	}
	if len(routes) == 0 {
		return "none"
	}
	return popByAddr(routes[0].Gateway)
}

// frrRoute is one path in FRR's table.
type frrRoute struct {
	prefix, peer, asPath string
}

// frrTable reads FRR's whole table in f.
func (l *labEnv) frrTable(t *testing.T, f family) []frrRoute {
	t.Helper()
	var out struct {
		Routes map[string][]struct {
			PeerID string `json:"peerId"`
			Path   string `json:"path"`
		} `json:"routes"`
	}
	l.vtyshJSON(t, fmt.Sprintf("show bgp ipv%s unicast json", f.version), &out)
	var routes []frrRoute
	for _, prefix := range slices.Sorted(maps.Keys(out.Routes)) {
		for _, p := range out.Routes[prefix] {
			routes = append(routes, frrRoute{prefix: prefix, peer: p.PeerID, asPath: p.Path})
		}
	}
	return routes
}

// frrAdvertised reads the prefixes FRR sends to the neighbour at addr in f.
func (l *labEnv) frrAdvertised(t *testing.T, f family, addr string) []string {
	t.Helper()
	var out struct {
		AdvertisedRoutes map[string]json.RawMessage `json:"advertisedRoutes"`
	}
	l.vtyshJSON(t, fmt.Sprintf("show bgp ipv%s unicast neighbors %s advertised-routes json", f.version, addr), &out)
	return slices.Sorted(maps.Keys(out.AdvertisedRoutes))
}
