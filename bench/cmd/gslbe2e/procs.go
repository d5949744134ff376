//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/anyctl/anyctl/controlconn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// proc is an anyctl daemon running as a child process, logging JSON into a
// file.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	start  time.Time
	exited chan struct{}
}

// startProc runs bin with args, its output into work/name.log.
func startProc(bin, work, name string, args ...string) (*proc, error) {
	p := &proc{name: name, log: filepath.Join(work, name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s %s: %w", bin, name, err)
	}
	go func() { p.cmd.Wait(); logf.Close(); close(p.exited) }()
	return p, nil
}

// stop ends the process: SIGTERM, then SIGKILL after 20 s.
func (p *proc) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// cpu is the process's user and system CPU time so far (/proc/PID/stat,
// in clock ticks of 10 ms).
func (p *proc) cpu() time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces): utime
	// and stime are the 14th and 15th of the line.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

// rssKB is the process's resident memory now, and its peak.
func (p *proc) rssKB() (rss, hwm int) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			rss, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			hwm, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return rss, hwm
}

// logged returns when the process first logged msg at or after since,
// and that line's fields; ok is false when it has not.
func (p *proc) logged(msg string, since time.Time) (at time.Time, fields map[string]any, ok bool) {
	f, err := os.Open(p.log)
	if err != nil {
		return time.Time{}, nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["msg"] != msg {
			continue
		}
		s, _ := line["time"].(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || t.Before(since) {
			continue
		}
		return t, line, true
	}
	return time.Time{}, nil, false
}

// controllerProc is `anyctl controller` on a fresh embedded etcd in its
// data directory, with an Admin client.
type controllerProc struct {
	*proc
	addr  string
	conn  *grpc.ClientConn
	admin v1.AdminServiceClient
}

func startController(ctx context.Context, bin, work string) (*controllerProc, error) {
	port, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p, err := startProc(bin, work, "controller", "controller", "--listen", addr,
		"--data-dir", filepath.Join(work, "controller"), "--metrics-listen", "",
		"--log-format", "json", "--log-level", "info")
	if err != nil {
		return nil, err
	}
	c := &controllerProc{proc: p, addr: addr}
	if c.conn, err = controlconn.Dial(addr, nil); err != nil {
		p.stop()
		return nil, err
	}
	c.admin = v1.NewAdminServiceClient(c.conn)
	deadline := time.Now().Add(time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.admin.Status(cctx, &v1.StatusRequest{})
		cancel()
		if err == nil {
			return c, nil
		}
		if p.dead() || time.Now().After(deadline) || ctx.Err() != nil {
			c.stop()
			return nil, fmt.Errorf("the controller did not serve within a minute: %v (see %s)", err, p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *controllerProc) stop() {
	if c.conn != nil {
		c.conn.Close()
	}
	c.proc.stop()
}

// startDNS runs `anyctl dns` as it runs in production: subscribed to the
// controller's feed, the GeoIP database given, state in stateDir,
// answering on addr.
func startDNS(bin, work, controller, addr, db, stateDir string) (*proc, error) {
	return startProc(bin, work, "dns", "dns", "--controller", controller, "--listen", addr,
		"--geoip", db, "--state-dir", stateDir, "--metrics-listen", "", "--name", "gslbe2e",
		"--log-format", "json", "--log-level", "info")
}

// freePort returns a port free on 127.0.0.1 for network ("tcp", "udp")
// a moment ago.
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
