package lab

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// labEnv is a lab brought up by lab.sh, torn down at cleanup.
type labEnv struct {
	dir    string // LAB_DIR: state, logs, sockets
	bin    string // the binaries built for this run
	labSh  string // deploy/lab/lab.sh
	prefix string // namespace name prefix
}

// requireLab skips the test where the lab cannot run.
func requireLab(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the routed lab takes about a minute: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("the routed lab needs root (network namespaces); CI runs it as root")
	}
	if _, err := os.Stat("/usr/lib/frr/bgpd"); err != nil {
		t.Skip("FRR is not installed (/usr/lib/frr/bgpd missing): run scripts/test-deps.sh as root, or apt-get install frr")
	}
	for _, prog := range []string{"bird", "birdc"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("BIRD 2 is not installed (%s not on PATH): run scripts/test-deps.sh as root, or apt-get install bird2", prog)
		}
	}
	probe := fmt.Sprintf("labprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("ip netns does not work here: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "netns", "del", probe).CombinedOutput(); err != nil {
		t.Fatalf("deleting the probe namespace %q: %v: %s", probe, err, out)
	}
}

// startLab builds the binaries and runs lab.sh up in a fresh directory,
// with namespace names unique to this process.
func startLab(t *testing.T) *labEnv {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "go.mod")); err != nil {
		t.Fatalf("repository root %q: %v", repo, err)
	}
	dir, err := os.MkdirTemp("", "anyctl-lab-")
	if err != nil {
		t.Fatal(err)
	}
	// FRR and BIRD drop to users frr and bird, which must reach their
	// files under dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l := &labEnv{
		dir:    dir,
		bin:    filepath.Join(dir, "bin"),
		labSh:  filepath.Join(repo, "deploy", "lab", "lab.sh"),
		prefix: fmt.Sprintf("lab%d-", os.Getpid()),
	}
	t.Cleanup(func() { l.down(t) })
	began := time.Now()
	build(t, repo, l.bin, map[string]string{
		"anyctl":   "./cli/anyctl",
		"labsvc":   "./deploy/lab/labsvc",
		"labprobe": "./deploy/lab/labprobe",
	})
	built := time.Now()
	l.run(t, "up")
	t.Logf("lab: binaries built in %v, lab up in %v, in %s", built.Sub(began).Round(time.Millisecond),
		time.Since(built).Round(time.Millisecond), dir)
	return l
}

func build(t *testing.T, repo, bin string, pkgs map[string]string) {
	t.Helper()
	for name, pkg := range pkgs {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
}

// down tears the lab down and checks that nothing of it is left; on
// failure it first logs the tail of every log.
func (l *labEnv) down(t *testing.T) {
	t.Helper()
	if t.Failed() {
		l.dumpLogs(t)
	}
	pids := l.pids()
	if out, err := l.script("down"); err != nil {
		t.Errorf("lab.sh down: %v\n%s", err, out)
	}
	for name, pid := range pids {
		// lab.sh down waits for each process, or SIGKILLs it after 5 s.
		for deadline := time.Now().Add(2 * time.Second); alive(pid) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("%s (PID %d) still running after lab.sh down", name, pid)
		}
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Errorf("ip netns list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, l.prefix) {
			t.Errorf("namespace %q left behind after lab.sh down", strings.Fields(line)[0])
		}
	}
	if os.Getenv("LAB_KEEP") == "" {
		os.RemoveAll(l.dir)
	}
}

func (l *labEnv) dumpLogs(t *testing.T) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(l.dir, "logs", "*.log"))
	frr, _ := filepath.Glob(filepath.Join(l.dir, "frr", "*.log"))
	bird, _ := filepath.Glob(filepath.Join(l.dir, "bird", "*.log"))
	for _, f := range slices.Concat(logs, frr, bird) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		lines = lines[max(0, len(lines)-30):]
		t.Logf("--- %s (last %d lines)\n%s", filepath.Base(f), len(lines), strings.Join(lines, "\n"))
	}
}

// script runs lab.sh with the lab's environment.
func (l *labEnv) script(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{l.labSh}, args...)...)
	cmd.Env = append(os.Environ(),
		"LAB_DIR="+l.dir,
		"LAB_PREFIX="+l.prefix,
		"ANYCTL="+filepath.Join(l.bin, "anyctl"),
		"LABSVC="+filepath.Join(l.bin, "labsvc"),
		"LABPROBE="+filepath.Join(l.bin, "labprobe"),
	)
	return cmd.CombinedOutput()
}

// run runs lab.sh and fails the test when it fails.
func (l *labEnv) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := l.script(args...)
	if err != nil {
		t.Fatalf("lab.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// anyctl runs the anyctl client against the lab's controller.
func (l *labEnv) anyctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"--server", "unix:" + filepath.Join(l.dir, "ctl.sock")}, args...)
	out, err := exec.CommandContext(ctx, filepath.Join(l.bin, "anyctl"), args...).CombinedOutput()
	return string(out), err
}

func (l *labEnv) ns(name string) string { return l.prefix + name }

// pid is the PID lab.sh recorded for one of its processes.
func (l *labEnv) pid(t *testing.T, name string) int {
	t.Helper()
	f := filepath.Join(l.dir, "pids", name+".pid")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatalf("PID of %s: %v", name, err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(b))[0])
	if err != nil {
		t.Fatalf("PID file %q: %v", f, err)
	}
	return pid
}

// pids are the processes lab.sh has recorded, by name.
func (l *labEnv) pids() map[string]int {
	files, _ := filepath.Glob(filepath.Join(l.dir, "pids", "*.pid"))
	pids := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || len(strings.Fields(string(b))) == 0 {
			continue
		}
		if pid, err := strconv.Atoi(strings.Fields(string(b))[0]); err == nil {
			pids[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
		}
	}
	return pids
}

// kill sends SIGKILL to one of the lab's processes and waits until it is
// gone, and reports when the signal was sent.
func (l *labEnv) kill(t *testing.T, name string) time.Time {
	t.Helper()
	pid := l.pid(t, name)
	at := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing %s (PID %d): %v", name, pid, err)
	}
	await(t, fmt.Sprintf("%s (PID %d) to die", name, pid), 5*time.Second, func() bool { return !alive(pid) },
		func() string { return "still running" })
	return at
}

// alive reports whether a process exists and is not a zombie (orphans are
// reaped late).
func alive(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	i := strings.LastIndexByte(line, ')')
	return i >= 0 && i+2 < len(line) && line[i+2] != 'Z'
}

// await polls cond every 5 ms until it holds, and fails the test after
// timeout with what state says.
func await(t *testing.T, what string, timeout time.Duration, cond func() bool, state func() string) {
	t.Helper()
	poll(t, what, 5*time.Millisecond, timeout, cond, state)
}

// poll is await with a chosen polling interval.
func poll(t *testing.T, what string, every, timeout time.Duration, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, state())
		}
		time.Sleep(every)
	}
}
