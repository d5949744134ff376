//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
)

// controllerProc is `anyctl controller` running as its own process, with
// an Admin client and a client of its embedded etcd.
type controllerProc struct {
	// cmd is the process; nil when the controller runs in this process
	// (inproc).
	cmd    *exec.Cmd
	inproc *inProcess
	addr   string
	conn   *grpc.ClientConn
	admin  v1.AdminServiceClient
	// st is a store over the controller's embedded etcd, for its
	// revision, database size and the reports' keys.
	st     *store.Store
	exited chan struct{}
}

// startController runs the controller on a fresh data directory under
// work, allowing agents local connections.
func startController(ctx context.Context, bin, work string, agents int) (*controllerProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, fmt.Sprintf("controller-%d", agents))
	logf, err := os.Create(dir + ".log")
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "controller", "--listen", addr, "--data-dir", dir, "--metrics-listen", "",
		"--local-connections", strconv.Itoa(agents+200), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c := &controllerProc{cmd: cmd, addr: addr, exited: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(c.exited) }()
	if err := c.connect(ctx, dir); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// connect waits until the controller serves and connects to its etcd,
// whose port is in its data directory dir.
func (c *controllerProc) connect(ctx context.Context, dir string) error {
	var err error
	if c.conn, err = controlconn.Dial(c.addr, nil); err != nil {
		return err
	}
	c.admin = v1.NewAdminServiceClient(c.conn)
	deadline := time.Now().Add(time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.admin.Status(cctx, &v1.StatusRequest{})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-c.exited:
			return fmt.Errorf("the controller exited: see %s.log", dir)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the controller did not serve within a minute: %v (see %s.log)", err, dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var ports struct {
		Client int `json:"client"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "etcd-ports.json"))
	if err == nil {
		err = json.Unmarshal(b, &ports)
	}
	if err != nil {
		return fmt.Errorf("reading the embedded etcd's port: %w", err)
	}
	c.st, err = store.Dial(ctx, store.DialConfig{Endpoints: []string{"http://127.0.0.1:" + strconv.Itoa(ports.Client)}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return err
}

// stop ends the controller: SIGTERM, then SIGKILL after 30 s.
func (c *controllerProc) stop() {
	if c.st != nil {
		c.st.Close()
	}
	if c.conn != nil {
		c.conn.Close()
	}
	if c.inproc != nil {
		c.inproc.stop()
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// usage is the controller's CPU time so far and its RSS now.
func (c *controllerProc) usage() (cpu time.Duration, rssKB int, err error) {
	pid := "self"
	if c.cmd != nil {
		pid = strconv.Itoa(c.cmd.Process.Pid)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%s/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 14th and 15th fields of the line.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	cpu = time.Duration(ut+st) * time.Second / ticks
	sf, err := os.Open(fmt.Sprintf("/proc/%s/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer sf.Close()
	sc := bufio.NewScanner(sf)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return cpu, rssKB, nil
}

// etcdState is the etcd revision and database size (file and in use).
func (c *controllerProc) etcdState(ctx context.Context) (rev, size, inUse int64, err error) {
	st, err := c.st.DBStatus(ctx)
	return st.Revision, st.Size, st.InUse, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
