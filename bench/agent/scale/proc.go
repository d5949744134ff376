//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// agentProc is the agent running as its own process.
type agentProc struct {
	cmd     *exec.Cmd
	started time.Time
	// exited is closed when the process has been waited for; err is then
	// what Wait returned.
	exited chan struct{}
	err    error
}

// startAgent runs `anyctl agent --config cfgPath`, its log going to logPath.
// The agent is killed if this program dies first.
func startAgent(bin, cfgPath, logPath string) (*agentProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "agent", "--config", cfgPath, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &agentProc{cmd: cmd, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM and waits up to timeout for the agent to exit, then
// kills it. It returns how long the agent took to exit on its own.
func (p *agentProc) stop(timeout time.Duration) (time.Duration, error) {
	began := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("signalling the agent: %w", err)
	}
	select {
	case <-p.exited:
		return time.Since(began), p.err
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.exited
		return 0, fmt.Errorf("agent did not exit %v after SIGTERM; killed", timeout)
	}
}

// kill ends the agent at once, for cleanup after a failure.
func (p *agentProc) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// alive reports an early exit as an error.
func (p *agentProc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("agent exited early: %v", p.err)
	default:
		return nil
	}
}

// memKB reads a Vm* field (VmHWM, VmRSS) of /proc/PID/status, in kB.
func (p *agentProc) memKB(field string) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(val), " kB"))
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s %q: %w", p.cmd.Process.Pid, field, val, err)
		}
		return kb, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", p.cmd.Process.Pid, field)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// cpu is the user and system CPU time the agent has used.
func (p *agentProc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, may hold spaces; count from after it.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", p.cmd.Process.Pid, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", p.cmd.Process.Pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// waitCtx waits d or until ctx ends.
func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
