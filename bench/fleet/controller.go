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
// an Admin client and a client of its etcd.
type controllerProc struct {
	// name names the replica in the output.
	name string
	// cmd is the process; nil when the controller runs in this process
	// (inproc).
	cmd    *exec.Cmd
	inproc *inProcess
	addr   string
	// log is the process's log file.
	log   string
	conn  *grpc.ClientConn
	admin v1.AdminServiceClient
	// st is a store over the controller's etcd (its embedded one, or the
	// cluster), for its revision, database size and the reports' keys;
	// ownStore says whether stop closes it.
	st       *store.Store
	ownStore bool
	exited   chan struct{}
}

// startController runs the controller, allowing agents local connections:
// on a fresh embedded etcd under work when cluster is nil, else on the
// cluster (whose store st the controller then shares).
func startController(ctx context.Context, bin, work, name string, agents int, cluster *etcdCluster, st *store.Store) (*controllerProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, fmt.Sprintf("%s-%d-%d", name, agents, time.Now().UnixNano()))
	logf, err := os.Create(dir + ".log")
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := []string{"controller", "--listen", addr, "--data-dir", dir, "--metrics-listen", "",
		"--local-connections", strconv.Itoa(agents + 200), "--log-level", "warn"}
	if cluster != nil {
		// Info: the replica that leads says so ("leading the fleet
		// jobs"), which the failover measurement reads.
		args[len(args)-1] = "info"
		args = append(args, "--etcd-endpoints", strings.Join(cluster.endpoints(), ","))
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c := &controllerProc{name: name, cmd: cmd, addr: addr, log: dir + ".log", exited: make(chan struct{}), st: st}
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
	if c.st != nil {
		return nil
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
	c.ownStore = err == nil
	return err
}

// stop ends the controller: SIGTERM, then SIGKILL after 30 s.
func (c *controllerProc) stop() {
	if c.st != nil && c.ownStore {
		c.st.Close()
	}
	if c.conn != nil {
		c.conn.Close()
	}
	if c.inproc != nil {
		c.inproc.stop()
		return
	}
	select {
	case <-c.exited:
		return // killed already
	default:
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
	return procUsage(pid)
}

// kill SIGKILLs the controller and waits until it has exited.
func (c *controllerProc) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// procUsage is the CPU time so far and the RSS now of the process pid
// ("self" for this one).
func procUsage(pid string) (cpu time.Duration, rssKB int, err error) {
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

// dead reports whether the controller's process has exited.
func (c *controllerProc) dead() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
