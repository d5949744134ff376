package fleettest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// outage is how long the all-controllers-down test keeps every replica
// down: 20 s by default, so that `make test` stays quick; set
// ANYCTL_FLEET_OUTAGE (a Go duration, say 10m) for a longer run.
func outage(t *testing.T) time.Duration {
	s := os.Getenv("ANYCTL_FLEET_OUTAGE")
	if s == "" {
		return 20 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("ANYCTL_FLEET_OUTAGE %q: %v", s, err)
	}
	return d
}

// TestFleet runs the fleet once and puts it through each fault in turn;
// each step leaves it whole for the next.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-member etcd cluster, two controllers, three agents and two DNS servers")
	}
	f := startFleet(t, 2)
	steps := []struct {
		name string
		run  func(*testing.T, *fleet)
	}{
		{"LeaderKilledDuringDrain", leaderKilledDuringDrain},
		{"ReplicaKilled", replicaKilled},
		{"EtcdMemberKilled", etcdMemberKilled},
		{"QuorumLost", quorumLost},
		{"AllControllersDown", allControllersDown},
		{"ReplicaPartitionedFromEtcd", partitionedFromEtcd},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, f) }) {
			return
		}
	}
}

// leaderKilledDuringDrain SIGKILLs the leading replica while a drain is in
// its graceful-shutdown step: the other replica takes over and withdraws
// the PoP when the step is over; the router sees only the UPDATEs the
// drain asked for, and every agent that streamed from the dead replica
// streams from the live one.
func leaderKilledDuringDrain(t *testing.T, f *fleet) {
	var old *controllerProc
	f.awaitAll("a leader", 30*time.Second, func() bool { old = f.leader(); return old != nil })
	before := f.updates()
	_, dnsFailBefore, _ := f.prober.counts()
	onOld := map[string]int{}
	for _, p := range pops {
		if replica, n := f.streamingTo(p.name); strings.HasPrefix(replica, old.addr) {
			onOld[p.name] = n
		}
	}

	drained := time.Now()
	if out, err := f.cliAt(f.other(old), "drain", "pop", "tokyo"); err != nil {
		t.Fatalf("anyctl drain pop tokyo: %v\n%s", err, out)
	}
	// The graceful-shutdown step's UPDATE reaches the router.
	f.awaitAll("tokyo's graceful-shutdown UPDATE", 30*time.Second, func() bool { return f.updates()["tokyo"] > before["tokyo"] })
	gshut := time.Since(drained)

	killed := time.Now()
	f.kill(old, syscall.SIGKILL)
	var next *controllerProc
	at := f.awaitEach(killed, time.Minute, map[string]func() bool{
		"new leader":      func() bool { next = f.leader(); return next != nil && next != old },
		"agents moved":    f.moved(old, onOld),
		"tokyo withdrawn": func() bool { return !f.popAnnounces("tokyo") },
	})
	withdrawn := killed.Sub(drained) + at["tokyo withdrawn"]
	t.Logf("leader %s SIGKILLed %s into the drain (graceful-shutdown UPDATE at %s): %s leads %s after the SIGKILL; the %d agents that streamed from %s stream from another replica %s after it",
		old.name, killed.Sub(drained).Round(time.Millisecond), gshut.Round(time.Millisecond), next.name, at["new leader"].Round(time.Millisecond),
		len(onOld), old.name, at["agents moved"].Round(time.Millisecond))
	t.Logf("tokyo withdrawn %s after the drain began (drain period %s)", withdrawn.Round(time.Millisecond), drainPeriod)
	if withdrawn < drainPeriod {
		t.Errorf("tokyo withdrawn %s after the drain began, before its %s graceful-shutdown period was over", withdrawn, drainPeriod)
	}

	got := diff(before, f.updates())
	t.Logf("UPDATEs at the router during the drain and the failover: %v", got)
	if got["london"] != 0 || got["newyork"] != 0 {
		t.Errorf("london and newyork sent %d and %d UPDATEs; the drain of tokyo asked for none", got["london"], got["newyork"])
	}
	if got["tokyo"] != 2 {
		t.Errorf("tokyo sent %d UPDATEs; the drain asked for 2 (graceful shutdown, withdrawal)", got["tokyo"])
	}
	if _, fails, samples := f.prober.counts(); fails != dnsFailBefore {
		t.Errorf("%d DNS queries failed during the failover: %q", fails-dnsFailBefore, samples)
	}

	// Leave the fleet whole: the replica back, tokyo back in service.
	f.startController(old)
	f.awaitServing(old)
	if out, err := f.cli("undrain", "pop", "tokyo"); err != nil {
		t.Fatalf("anyctl undrain pop tokyo: %v\n%s", err, out)
	}
	f.awaitAll("tokyo announcing again", time.Minute, func() bool { return f.popAnnounces("tokyo") })
	f.awaitAll("tokyo's undrain over", time.Minute, func() bool {
		out, _ := f.cli("status", "tokyo")
		return strings.Contains(out, "serving")
	})
}

// busiest returns the live replica most agents stream from, and those
// agents with their stream counts.
func (f *fleet) busiest() (*controllerProc, map[string]int) {
	var best *controllerProc
	var bestOn map[string]int
	for _, c := range f.ctls {
		if !c.alive() {
			continue
		}
		on := f.agentsOn(c)
		if best == nil || len(on) > len(bestOn) {
			best, bestOn = c, on
		}
	}
	return best, bestOn
}

// agentsOn returns the agents whose stream is with c, with how many
// streams each has established so far.
func (f *fleet) agentsOn(c *controllerProc) map[string]int {
	on := map[string]int{}
	for _, p := range pops {
		if replica, n := f.streamingTo(p.name); strings.HasPrefix(replica, c.addr) {
			on[p.name] = n
		}
	}
	return on
}

// awaitMoved waits until every agent in on has a new stream with a
// replica other than c.
func (f *fleet) awaitMoved(c *controllerProc, on map[string]int, within time.Duration) time.Duration {
	f.t.Helper()
	return f.awaitAll("every agent of "+c.name+" streaming from another replica", within, f.moved(c, on))
}

// quiet checks that the router saw no UPDATE since before, every PoP still
// announces, and no DNS query failed since dnsBefore.
func (f *fleet) quiet(t *testing.T, what string, before map[string]uint64, dnsBefore int) {
	t.Helper()
	got := diff(before, f.updates())
	queries, fails, samples := f.prober.counts()
	t.Logf("%s: UPDATEs at the router %v; DNS queries failed %d (of %d so far)", what, got, fails-dnsBefore, queries)
	for pop, n := range got {
		if n != 0 {
			t.Errorf("%s: the router received %d UPDATEs from %s; want none", what, n, pop)
		}
	}
	if n := f.announcing(); n != len(pops) {
		t.Errorf("%s: %d PoPs announce at the router; want all %d", what, n, len(pops))
	}
	if fails != dnsBefore {
		t.Errorf("%s: %d DNS queries failed: %q", what, fails-dnsBefore, samples)
	}
}

// replicaKilled SIGKILLs the replica most agents stream from: they move to
// the other one, resuming from the revision they hold, and nothing moves
// at the router.
func replicaKilled(t *testing.T, f *fleet) {
	c, on := f.busiest()
	before := f.updates()
	_, dnsBefore, _ := f.prober.counts()
	f.kill(c, syscall.SIGKILL)
	took := f.awaitMoved(c, on, time.Minute)
	t.Logf("replica %s SIGKILLed: all %d agents that streamed from it stream from another replica after %s", c.name, len(on), took.Round(time.Millisecond))
	f.quiet(t, "replica killed", before, dnsBefore)
	f.startController(c)
	f.awaitServing(c)
}

// etcdMemberKilled SIGKILLs one etcd member: writes still work.
func etcdMemberKilled(t *testing.T, f *fleet) {
	manifest := f.labelled("member-killed")
	f.etcd.Kill(0)
	start := time.Now()
	out, err := f.cli("apply", "-f", manifest)
	if err != nil {
		t.Fatalf("anyctl apply with one of three etcd members down: %v\n%s", err, out)
	}
	t.Logf("apply with one etcd member down took %s", time.Since(start).Round(time.Millisecond))
	f.etcd.Restart(0)
	f.etcd.AwaitWritable(time.Minute)
}

// labelled writes the desired state with tokyo and london labelled
// fault=value, and returns its path: a change of two objects, applied as
// one transaction.
func (f *fleet) labelled(value string) string {
	f.t.Helper()
	path := filepath.Join(f.workDir, value+".yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, desired, f.routerPort, f.healthPort, ", labels: {fault: "+value+"}"), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// quorumLost takes two of the three etcd members down: an apply fails
// fast naming the cause and writes nothing; agents keep announcing and DNS
// servers keep answering; everything works again when the members return.
func quorumLost(t *testing.T, f *fleet) {
	manifest := f.labelled("quorum-lost")
	before := f.updates()
	_, dnsBefore, _ := f.prober.counts()
	f.etcd.Kill(0)
	f.etcd.Kill(1)
	lost := time.Now()

	start := time.Now()
	out, err := f.cli("apply", "-f", manifest)
	took := time.Since(start)
	t.Logf("apply without quorum failed after %s: %s", took.Round(time.Millisecond), strings.TrimSpace(out))
	if err == nil || !strings.Contains(out, "nothing was written: etcd has lost quorum") {
		t.Errorf("apply without quorum: %v\n%s\nwant it to fail saying nothing was written as etcd has lost quorum", err, out)
	}
	// Stay without quorum past the replicas' etcd-loss grace, so that they
	// end their streams: agents and DNS servers are then on their own.
	for _, c := range f.ctls {
		f.awaitAll(c.name+" noticing etcd is gone", 30*time.Second, func() bool { return strings.Contains(c.logText(), "etcd unreachable") })
	}
	status, _ := f.cli("status")
	t.Logf("anyctl status without quorum:\n%s", status)
	if !strings.Contains(status, "CONTROLLER DEGRADED: cannot reach etcd (etcd has lost quorum") {
		t.Errorf("anyctl status without quorum does not say the controller is degraded:\n%s", status)
	}
	time.Sleep(2 * time.Second) // with every stream ended: does anything move?
	f.quiet(t, fmt.Sprintf("%s without etcd quorum", time.Since(lost).Round(time.Second)), before, dnsBefore)

	f.etcd.Restart(0)
	f.etcd.Restart(1)
	back := f.awaitAll("a write through the restored cluster", time.Minute, func() bool {
		_, err := f.cli("get", "pop", "tokyo")
		return err == nil
	})
	t.Logf("etcd quorum back: reads work %s after the members restarted", back.Round(time.Millisecond))
	for _, pop := range []string{"tokyo", "london"} {
		if obj, _ := f.cli("get", "pop", pop, "-o", "yaml"); strings.Contains(obj, "quorum-lost") {
			t.Errorf("pop %s carries the label of the apply that failed without quorum:\n%s", pop, obj)
		}
	}
	if out, err := f.cli("apply", "-f", manifest); err != nil {
		t.Fatalf("apply after quorum returned: %v\n%s", err, out)
	}
	f.awaitAll("every PoP's agent streaming again", time.Minute, func() bool { return f.allStreaming() })
	f.quiet(t, "after quorum returned", before, dnsBefore)
}

// allStreaming reports whether every agent's last stream event is a
// connection.
func (f *fleet) allStreaming() bool {
	for _, a := range f.agents {
		if !a.a.ControllerConnected() {
			return false
		}
	}
	return true
}

// allControllersDown SIGKILLs every replica and keeps them down for
// outage(): the router sees no UPDATE and no DNS query fails; when they
// return, agents stream again without re-announcing anything.
func allControllersDown(t *testing.T, f *fleet) {
	d := outage(t)
	before := f.updates()
	_, dnsBefore, _ := f.prober.counts()
	for _, c := range f.ctls {
		f.kill(c, syscall.SIGKILL)
	}
	time.Sleep(d) // the outage itself
	f.quiet(t, fmt.Sprintf("every controller down for %s", d), before, dnsBefore)
	for _, c := range f.ctls {
		f.startController(c)
	}
	for _, c := range f.ctls {
		f.awaitServing(c)
	}
	took := f.awaitAll("every agent streaming again", time.Minute, func() bool { return f.allStreaming() })
	t.Logf("controllers back: every agent streaming again %s after they serve", took.Round(time.Millisecond))
	f.quiet(t, "controllers back", before, dnsBefore)
}

// partitionedFromEtcd cuts the leading replica off from etcd (a proxy on
// each etcd path drops everything) but not from agents: it stops leading
// within its lease, another replica leads, and its agents move to a
// replica that reaches etcd.
func partitionedFromEtcd(t *testing.T, f *fleet) {
	var l *controllerProc
	f.awaitAll("a leader", 30*time.Second, func() bool { l = f.leader(); return l != nil })
	if len(f.agentsOn(l)) == 0 {
		// Every agent streams from the other replica: send them to the
		// leader first, so that the cut shows them move.
		o := f.other(l)
		on := f.agentsOn(o)
		f.kill(o, syscall.SIGKILL)
		f.awaitMoved(o, on, time.Minute)
		f.startController(o)
		f.awaitServing(o)
	}
	on := f.agentsOn(l)
	before := f.updates()
	_, dnsBefore, _ := f.prober.counts()
	cut := time.Now()
	for _, p := range l.proxies {
		p.setCut(true)
	}
	var next *controllerProc
	at := f.awaitEach(cut, time.Minute, map[string]func() bool{
		"stopped leading": func() bool { return strings.Contains(l.logText(), "stopped leading the fleet jobs") },
		"another leader":  func() bool { next = f.leader(); return next != nil && next != l },
		"agents moved":    f.moved(l, on),
		"streams ended":   func() bool { return strings.Contains(l.logText(), "etcd unreachable: ending agent and DNS streams") },
	})
	t.Logf("%s cut off from etcd (election lease 5 s, etcd-loss grace 5 s): stopped leading after %s, %s leads after %s; %s ends its streams after %s and its %d agents stream from another replica after %s",
		l.name, at["stopped leading"].Round(time.Millisecond), next.name, at["another leader"].Round(time.Millisecond),
		l.name, at["streams ended"].Round(time.Millisecond), len(on), at["agents moved"].Round(time.Millisecond))
	if len(on) == 0 {
		t.Errorf("no agent streamed from %s when it was cut off", l.name)
	}
	f.quiet(t, "replica partitioned from etcd", before, dnsBefore)
	for _, p := range l.proxies {
		p.setCut(false)
	}
	f.awaitAll(l.name+" reaching etcd again", time.Minute, func() bool { return strings.Contains(l.logText(), "etcd reached again") })
}
