package lab

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// minRestartTime is the shortest graceful-restart time (RFC 4724) each
// router must offer on its sessions with the PoPs, in seconds: long enough
// for an agent to restart.
const minRestartTime = 120

// routersOfferGracefulRestart checks that FRR and BIRD advertise the
// graceful-restart capability to every PoP, with a restart time of at least
// minRestartTime: they will keep a restarting agent's routes.
func (r *labRun) routersOfferGracefulRestart(t *testing.T) {
	var neighbors map[string]struct {
		// FRR 8.4 writes "gracefulRestart": "advertisedAndReceived" when
		// both sides sent the capability, else "gracefulRestartCapability":
		// "advertised" (or "received").
		Capabilities struct {
			Both string `json:"gracefulRestart"`
			One  string `json:"gracefulRestartCapability"`
		} `json:"neighborCapabilities"`
		GracefulRestartInfo struct {
			Timers struct {
				Configured int `json:"configuredRestartTimer"`
			} `json:"timers"`
		} `json:"gracefulRestartInfo"`
	}
	r.l.vtyshJSON(t, "show bgp neighbors json", &neighbors)
	for _, f := range []family{ipv4, ipv6} {
		for _, pop := range pops {
			addr := frr.popAddr(f, pop)
			n, ok := neighbors[addr]
			switch {
			case !ok:
				t.Errorf("FRR has no neighbour %s (%s)", addr, pop)
			case !strings.Contains(n.Capabilities.Both+n.Capabilities.One, "advertised"):
				t.Errorf("FRR's session with %s (%s): graceful-restart capability %q, want it advertised",
					addr, pop, n.Capabilities.Both+n.Capabilities.One)
			case n.GracefulRestartInfo.Timers.Configured < minRestartTime:
				t.Errorf("FRR's session with %s (%s): restart time %ds, want at least %ds",
					addr, pop, n.GracefulRestartInfo.Timers.Configured, minRestartTime)
			}
			proto := pop + f.version
			if secs, err := birdLocalRestartTime(r.l.birdc(t, "show", "protocols", "all", proto)); err != nil {
				t.Errorf("BIRD's protocol %s (%s): %v", proto, pop, err)
			} else if secs < minRestartTime {
				t.Errorf("BIRD's protocol %s (%s): restart time %ds, want at least %ds", proto, pop, secs, minRestartTime)
			}
		}
	}
}

// birdLocalRestartTime reads the restart time of the graceful-restart
// capability BIRD advertises, from "show protocols all PROTOCOL".
func birdLocalRestartTime(out string) (int, error) {
	_, local, ok := strings.Cut(out, "Local capabilities")
	if !ok {
		return 0, fmt.Errorf("no \"Local capabilities\" (session not established?) in:\n%s", out)
	}
	local, _, _ = strings.Cut(local, "Neighbor capabilities")
	_, gr, ok := strings.Cut(local, "Graceful restart\n")
	if !ok {
		return 0, fmt.Errorf("graceful restart not among the capabilities it advertises:%s", local)
	}
	_, after, ok := strings.Cut(gr, "Restart time: ")
	if !ok {
		return 0, fmt.Errorf("graceful restart advertised without a restart time:%s", local)
	}
	line, _, _ := strings.Cut(after, "\n")
	secs, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("restart time %q: %v", line, err)
	}
	return secs, nil
}
