package lab

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// frrNeighbor is FRR's view of one session ("show bgp neighbors json"):
// its state, the graceful-restart capability the PoP sent, and message
// counters.
type frrNeighbor struct {
	State string `json:"bgpState"`
	Caps  struct {
		GracefulRestart string `json:"gracefulRestart"` // "advertisedAndReceived"
	} `json:"neighborCapabilities"`
	GR struct {
		RemoteMode string `json:"remoteGrMode"` // "Restart": the PoP restarts gracefully
		RBit       bool   `json:"rBit"`         // the PoP's last OPEN said it restarted
		Timers     struct {
			Received int `json:"receivedRestartTimer"`
		} `json:"timers"`
		IPv4 *struct {
			FBit bool `json:"fBit"`
		} `json:"ipv4Unicast"`
		IPv6 *struct {
			FBit bool `json:"fBit"`
		} `json:"ipv6Unicast"`
	} `json:"gracefulRestartInfo"`
	Stats struct {
		UpdatesRecv       int `json:"updatesRecv"`
		NotificationsRecv int `json:"notificationsRecv"`
	} `json:"messageStats"`
	Established int `json:"connectionsEstablished"`
	Dropped     int `json:"connectionsDropped"`
}

// forwarding is the forwarding-state flag the PoP's last OPEN carried for
// the session's family.
func (n frrNeighbor) forwarding() bool {
	switch {
	case n.GR.IPv4 != nil:
		return n.GR.IPv4.FBit
	case n.GR.IPv6 != nil:
		return n.GR.IPv6.FBit
	}
	return false
}

func (n frrNeighbor) String() string {
	return fmt.Sprintf("%s, graceful-restart capability %q, remote mode %q, restart time %ds, R bit %v, F bit %v",
		n.State, n.Caps.GracefulRestart, n.GR.RemoteMode, n.GR.Timers.Received, n.GR.RBit, n.forwarding())
}

// frrNeighbors reads FRR's sessions by neighbour address.
func (l *labEnv) frrNeighbors(t *testing.T) map[string]frrNeighbor {
	t.Helper()
	var out map[string]frrNeighbor
	l.vtyshJSON(t, "show bgp neighbors json", &out)
	return out
}

// birdGR is BIRD's view of the graceful-restart capability a PoP sent on
// one session ("show protocols all PROTOCOL", under "Neighbor
// capabilities").
type birdGR struct {
	state       string // "Established", "Passive", ...
	received    bool   // the capability is among the neighbour's
	restartTime int
	recovery    bool   // "Restart recovery": the Restart State bit
	preserved   string // "AF preserved": families with forwarding state
	helping     bool   // "Neighbor graceful restart active": keeping its routes
}

func (g birdGR) String() string {
	if !g.received {
		return g.state + ", no graceful-restart capability from the neighbour"
	}
	return fmt.Sprintf("%s, graceful restart received, restart time %ds, restart recovery %v, AF preserved %q",
		g.state, g.restartTime, g.recovery, g.preserved)
}

// birdNeighborGR reads BIRD's protocol proto.
func (l *labEnv) birdNeighborGR(t *testing.T, proto string) birdGR {
	t.Helper()
	return parseBirdNeighborGR(l.birdc(t, "show", "protocols", "all", proto))
}

func parseBirdNeighborGR(out string) birdGR {
	var g birdGR
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "BGP state:"); ok {
			g.state = strings.TrimSpace(v)
		}
	}
	g.helping = strings.Contains(out, "Neighbor graceful restart active")
	_, nbr, ok := strings.Cut(out, "Neighbor capabilities")
	if !ok {
		return g
	}
	nbr, _, _ = strings.Cut(nbr, "Session:")
	_, gr, ok := strings.Cut(nbr, "Graceful restart\n")
	if !ok {
		return g
	}
	g.received = true
	for _, line := range strings.Split(gr, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "Restart time":
			g.restartTime, _ = strconv.Atoi(strings.TrimSpace(v))
		case "Restart recovery":
			g.recovery = true
		case "AF preserved":
			g.preserved = strings.TrimSpace(v)
			return g // the capability's last line
		}
	}
	return g
}

// TestParseBirdNeighborGR checks the parser on BIRD 2.0.12's output; it
// needs no lab.
func TestParseBirdNeighborGR(t *testing.T) {
	out := "tokyo4     BGP        ---        up     2026-12-05 17:03:40  Established   \n" +
		"  BGP state:          Established\n" +
		"    Local capabilities\n" +
		"      Graceful restart\n" +
		"        Restart time: 120\n" +
		"        AF supported: ipv4\n" +
		"        AF preserved:\n" +
		"    Neighbor capabilities\n" +
		"      Multiprotocol\n" +
		"        AF announced: ipv4\n" +
		"      Graceful restart\n" +
		"        Restart time: 120\n" +
		"        Restart recovery\n" +
		"        AF supported: ipv4\n" +
		"        AF preserved: ipv4\n" +
		"      4-octet AS numbers\n" +
		"    Session:          external AS4\n"
	want := birdGR{state: "Established", received: true, restartTime: 120, recovery: true, preserved: "ipv4"}
	if got := parseBirdNeighborGR(out); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	down := "  BGP state:          Passive\n    Neighbor graceful restart active\n    Restart timer:    119.964/-\n"
	if got := parseBirdNeighborGR(down); got != (birdGR{state: "Passive", helping: true}) {
		t.Errorf("while the neighbour restarts: got %+v", got)
	}
}
