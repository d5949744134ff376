package lab

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// birdRoute is one route in BIRD's table, as "birdc show route ... all"
// prints it.
type birdRoute struct {
	prefix    string
	proto     string // the protocol it came from: tokyo4, own6, ...
	best      bool
	via       string // next hop; empty for a route into an interface
	asPath    string // BGP routes only
	localPref int    // BGP routes only
	// BGP routes only, as FRR writes them: "64512:100 64497:100",
	// "64512:7:1"; med is -1 when the route has none.
	community, large string
	med              int
	since            string // when BIRD took the route: "2026-12-05 16:44:07"
}

// pop is the PoP the route came from, or its next hop when no PoP's.
func (r birdRoute) pop() string { return popByAddr(r.via) }

// birdc runs birdc against the lab's BIRD and returns what it printed.
func (l *labEnv) birdc(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args = append([]string{"-s", filepath.Join(l.dir, "bird", "run", "bird.ctl")}, args...)
	out, err := exec.CommandContext(ctx, "birdc", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("birdc %s: %v\n%s", strings.Join(args[2:], " "), err, out)
	}
	return string(out)
}

// birdRoutes reads BIRD's routes: "show route ARGS... all"; ARGS may be a
// prefix, or nothing for the whole table.
func (l *labEnv) birdRoutes(t *testing.T, args ...string) []birdRoute {
	t.Helper()
	return parseBirdRoutes(l.birdc(t, append(append([]string{"show", "route"}, args...), "all")...))
}

// parseBirdRoutes parses "show route all": a route starts on a line that
// has its prefix (or blanks, for a further route to the prefix before),
// its type, "[PROTOCOL TIME]" and "*" when best; its attributes follow on
// lines indented by a tab.
func parseBirdRoutes(out string) []birdRoute {
	var routes []birdRoute
	var prefix string
	for _, line := range strings.Split(out, "\n") {
		if attr, ok := strings.CutPrefix(line, "\t"); ok {
			if len(routes) == 0 {
				continue
			}
			r := &routes[len(routes)-1]
			switch k, v, _ := strings.Cut(attr, ": "); {
			case strings.HasPrefix(attr, "via "):
				r.via = strings.Fields(attr)[1]
			case k == "BGP.as_path":
				r.asPath = v
			case k == "BGP.local_pref":
				r.localPref, _ = strconv.Atoi(v)
			case k == "BGP.med":
				r.med, _ = strconv.Atoi(v)
			case k == "BGP.community":
				r.community = birdCommunities(v)
			case k == "BGP.large_community":
				r.large = birdCommunities(v)
			}
			continue
		}
		head, rest, ok := strings.Cut(line, " [")
		if !ok || strings.HasPrefix(line, "Table ") {
			continue
		}
		f := strings.Fields(head)
		switch len(f) {
		case 1: // a further route to the prefix before: just its type
		case 2:
			prefix = f[0]
		default:
			continue
		}
		proto, since, _ := strings.Cut(rest, " ")
		since, flags, _ := strings.Cut(since, "]")
		routes = append(routes, birdRoute{
			prefix: prefix,
			proto:  proto,
			best:   strings.HasPrefix(strings.TrimSpace(flags), "*"),
			med:    -1,
			since:  since,
		})
	}
	return routes
}

// birdCommunities rewrites BIRD's "(64512,100) (64497,100)" or
// "(64512, 7, 1)" as FRR writes them: "64512:100 64497:100", "64512:7:1".
func birdCommunities(v string) string {
	var out []string
	for _, c := range strings.Split(v, ")") {
		c = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "("))
		if c != "" {
			out = append(out, strings.ReplaceAll(strings.ReplaceAll(c, " ", ""), ",", ":"))
		}
	}
	return strings.Join(out, " ")
}

// TestParseBirdRoutes checks the parser on BIRD 2.0.12's output; it needs
// no lab.
func TestParseBirdRoutes(t *testing.T) {
	out := "BIRD 2.0.12 ready.\n" +
		"Table master4:\n" +
		"10.99.0.0/16         unicast [tokyo4 2026-12-05 16:44:07] * (100) [AS64496i]\n" +
		"\tvia 10.101.1.2 on to-tokyo\n" +
		"\tType: BGP univ\n" +
		"\tBGP.origin: IGP\n" +
		"\tBGP.as_path: 64512 64496\n" +
		"\tBGP.next_hop: 10.101.1.2\n" +
		"\tBGP.med: 50\n" +
		"\tBGP.local_pref: 100\n" +
		"\tBGP.community: (64512,100) (64497,100)\n" +
		"\tBGP.large_community: (64512, 7, 1)\n" +
		"                     unicast [london4 2026-12-05 16:44:07] (100) [AS64496i]\n" +
		"\tvia 10.101.2.2 on to-london\n" +
		"\tType: BGP univ\n" +
		"\tBGP.as_path: 64512 64512 64496\n" +
		"\tBGP.local_pref: 0\n" +
		"\tBGP.community: (65535,0)\n" +
		"10.98.0.0/16         unicast [own4 2026-12-05 16:44:04] * (200)\n" +
		"\tdev own\n" +
		"\tType: static univ\n"
	want := []birdRoute{
		{prefix: "10.99.0.0/16", proto: "tokyo4", best: true, via: "10.101.1.2", asPath: "64512 64496", localPref: 100,
			med: 50, community: "64512:100 64497:100", large: "64512:7:1", since: "2026-12-05 16:44:07"},
		{prefix: "10.99.0.0/16", proto: "london4", via: "10.101.2.2", asPath: "64512 64512 64496", med: -1,
			community: "65535:0", since: "2026-12-05 16:44:07"},
		{prefix: "10.98.0.0/16", proto: "own4", best: true, med: -1, since: "2026-12-05 16:44:04"},
	}
	got := parseBirdRoutes(out)
	if len(got) != len(want) {
		t.Fatalf("parsed %d routes, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("route %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := parseBirdRoutes("BIRD 2.0.12 ready.\nNetwork not found\n"); len(got) != 0 {
		t.Errorf("\"Network not found\" parsed as %+v, want no route", got)
	}
}
