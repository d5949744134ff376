package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// agentRestartTime is the graceful-restart time the lab's agents advertise
// (lab.sh: gracefulRestart.restartTime).
const agentRestartTime = 120

// routersSawRestartCapability checks that FRR and BIRD received the
// agent's graceful-restart capability on every session with tokyo: they
// will keep its routes when it restarts.
func (r *labRun) routersSawRestartCapability(t *testing.T) {
	t.Helper()
	nbrs := r.l.frrNeighbors(t)
	for _, v := range vantages {
		addr := v.popAddr("tokyo")
		switch v.up {
		case frr:
			n := nbrs[addr]
			if n.Caps.GracefulRestart != "advertisedAndReceived" || n.GR.RemoteMode != "Restart" || n.GR.Timers.Received != agentRestartTime {
				t.Errorf("%v: FRR's session with tokyo (%s): %v; want the graceful-restart capability received, remote mode \"Restart\", restart time %ds",
					v, addr, n, agentRestartTime)
			} else {
				t.Logf("%v: FRR's session with tokyo (%s) before the restart: %v", v, addr, n)
			}
		case bird:
			proto := "tokyo" + v.fam.version
			g := r.l.birdNeighborGR(t, proto)
			if !g.received || g.restartTime != agentRestartTime {
				t.Errorf("%v: BIRD's protocol %s: %v; want the graceful-restart capability received with restart time %ds", v, proto, g, agentRestartTime)
			} else {
				t.Logf("%v: BIRD's protocol %s before the restart: %v", v, proto, g)
			}
		}
	}
}

// restartFlagsSeen checks that the agent's OPEN after the restart said so
// to both routers: the Restart State bit and forwarding state kept for the
// session's family. Without them a router drops the routes it kept at
// once instead of at End-of-RIB (RFC 4724 4.2), and they move.
func (r *labRun) restartFlagsSeen(t *testing.T) {
	t.Helper()
	nbrs := r.l.frrNeighbors(t)
	for _, v := range vantages {
		addr := v.popAddr("tokyo")
		var restartBit, forwarding bool
		var seen string
		switch v.up {
		case frr:
			n := nbrs[addr]
			restartBit, forwarding, seen = n.GR.RBit, n.forwarding(), n.String()
		case bird:
			g := r.l.birdNeighborGR(t, "tokyo"+v.fam.version)
			restartBit, forwarding, seen = g.recovery, strings.Contains(g.preserved, "ipv"+v.fam.version), g.String()
		}
		if !restartBit || !forwarding {
			t.Errorf("%v: after the restart, %v's session with tokyo (%s): %s; want the agent's OPEN to carry the Restart State bit and "+
				"the forwarding state of %s, or the router drops tokyo's routes at once instead of at End-of-RIB (RFC 4724 4.2)",
				v, v.up, addr, seen, v.fam.name)
		} else {
			t.Logf("%v: after the restart, %v's session with tokyo (%s): %s", v, v.up, addr, seen)
		}
	}
}

// restartSessions logs when tokyo's agent exited and started again and
// each session came back, from the agent's log, counted from the SIGTERM.
func (r *labRun) restartSessions(t *testing.T, lines []agentLine) {
	t.Helper()
	term, ok := firstLine(lines, "SIGTERM: exiting for a restart", "")
	if !ok {
		t.Errorf("tokyo's agent did not log \"SIGTERM: exiting for a restart\": is graceful restart enabled in its config?")
		return
	}
	for _, msg := range []string{"exiting for a restart", "resuming after a restart"} {
		if l, ok := firstLine(lines, msg, ""); !ok {
			t.Errorf("tokyo's agent did not log %q after the SIGTERM", msg)
		} else {
			t.Logf("%q +%v after the SIGTERM", msg, ms(l.at.Sub(term.at)))
		}
	}
	var back []string
	for _, v := range vantages {
		peer := v.up.routerAddr(v.fam, "tokyo")
		if l, ok := firstLine(lines, "bgp session established", peer); ok {
			back = append(back, fmt.Sprintf("%v (%s) +%v", v, peer, ms(l.at.Sub(term.at))))
		} else {
			t.Errorf("%v: tokyo's agent did not log its session with %s established again", v, peer)
		}
	}
	t.Logf("sessions established again after the SIGTERM: %s", strings.Join(back, ", "))
}

// restartRouteChanges checks every router's kernel route and best path
// over the restart: no change at all, tokyo throughout.
func (r *labRun) restartRouteChanges(t *testing.T, watches map[vantage]watch, rw restartWatch, began, ended time.Time) {
	t.Helper()
	for _, v := range vantages {
		var changes []string
		for at := began; ; {
			ev, ok := watches[v].routes.first(at, nil)
			if !ok || ev.at.After(ended) {
				break
			}
			changes = append(changes, fmt.Sprintf("+%v %s", ms(ev.at.Sub(began)), ev.line))
			at = ev.at.Add(time.Nanosecond)
		}
		if len(changes) > 0 {
			t.Errorf("%v: %s's kernel route to %s changed %d times while tokyo's agent restarted; want none:\n  %s",
				v, v.up.name, v.fam.prefix, len(changes), strings.Join(changes, "\n  "))
		}
		if moved := rw.moved[v]; len(moved) > 0 {
			t.Errorf("%v: %v's best path or kernel route was not tokyo at %d of %d looks, first: %s", v, v.up, len(moved), rw.looks, moved[0])
		}
		stale := ""
		if v.up == frr {
			stale = fmt.Sprintf(", tokyo's path kept stale at %d looks", rw.stale[v])
		}
		t.Logf("%v: %d kernel route changes; best path and kernel route tokyo at %d of %d looks%s",
			v, len(changes), rw.looks-len(rw.moved[v]), rw.looks, stale)
	}
}

// restartMessages logs the BGP messages tokyo sent each router during the
// restart (tcpdump) and FRR's own count, and checks that none was a
// NOTIFICATION: a restart leaves the sessions without closing them.
func (r *labRun) restartMessages(t *testing.T, capture *bgpCapture, frrBefore map[string]frrNeighbor, began time.Time) {
	t.Helper()
	frrAfter := r.l.frrNeighbors(t)
	var sessions map[string]*sessionMessages
	if capture != nil {
		sessions = bySession(capture.since(began))
	}
	for _, v := range vantages {
		addr := v.popAddr("tokyo")
		line := fmt.Sprintf("%v: tokyo (%s) sent", v, addr)
		if capture != nil {
			s := sessions[addr]
			line += " " + s.String()
			if s != nil && s.count["notification"] > 0 {
				t.Errorf("%v: tokyo sent %v a NOTIFICATION during the restart; want the sessions left without one", v, v.up)
			}
		}
		if v.up == frr {
			b, a := frrBefore[addr], frrAfter[addr]
			line += fmt.Sprintf("; FRR counted %d UPDATEs received (End-of-RIB included), %d NOTIFICATIONs, %d connections dropped, %d established",
				a.Stats.UpdatesRecv-b.Stats.UpdatesRecv, a.Stats.NotificationsRecv-b.Stats.NotificationsRecv, a.Dropped-b.Dropped, a.Established-b.Established)
			if n := a.Stats.NotificationsRecv - b.Stats.NotificationsRecv; n > 0 {
				t.Errorf("%v: FRR received %d NOTIFICATIONs from tokyo during the restart; want none", v, n)
			}
		}
		t.Log(line)
	}
}

// restartRequests checks every client's requests over the restart: none
// failed, all answered by tokyo.
func (r *labRun) restartRequests(t *testing.T, watches map[vantage]watch, marks map[vantage]int, began, ended time.Time) {
	t.Helper()
	for _, v := range vantages {
		var total int
		var bad []probeResult
		var slowest probeResult
		for _, p := range watches[v].probes.since(marks[v]) {
			if p.start.Before(began) || p.start.After(ended) {
				continue
			}
			total++
			if p.err != "" || p.pop != "tokyo" {
				bad = append(bad, p)
			} else if p.end.Sub(p.start) > slowest.end.Sub(slowest.start) {
				slowest = p
			}
		}
		t.Logf("%v: %d requests from %s over the restart (%v), %d failed or not answered by tokyo; slowest answer: %v",
			v, total, v.up.client, ms(ended.Sub(began)), len(bad), slowest)
		for i, p := range bad {
			if i == 5 {
				t.Errorf("%v: ... and %d more", v, len(bad)-5)
				break
			}
			t.Errorf("%v: during the restart, %s's %v; want tokyo to answer", v, v.up.client, p)
		}
	}
}
