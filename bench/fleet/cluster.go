//go:build linux

package main

import (
	"context"
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

	"github.com/anyctl/anyctl/controller/store"
)

// etcdCluster is a three-member etcd cluster, each member a process of
// controller/etcdembed/etcdmember (the etcd server of the module's own
// etcd version, as fleettest runs it), fsync on, plain text on loopback.
type etcdCluster struct {
	members []*etcdMember
}

type etcdMember struct {
	name, clientURL string
	cmd             *exec.Cmd
	exited          chan struct{}
}

// buildEtcdMember builds the etcdmember command into work.
func buildEtcdMember(ctx context.Context, work string) (string, error) {
	bin := filepath.Join(work, "etcdmember")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./controller/etcdembed/etcdmember")
	var err error
	if build.Dir, err = moduleRoot(ctx); err != nil {
		return "", err
	}
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./controller/etcdembed/etcdmember: %w\n%s", err, out)
	}
	return bin, nil
}

// startEtcdCluster starts n members on fresh data directories under work
// and waits until every member answers.
func startEtcdCluster(ctx context.Context, bin, work string, n int) (*etcdCluster, error) {
	c := &etcdCluster{}
	var initial, peers []string
	for i := range n {
		cp, err := freePort()
		if err != nil {
			return nil, err
		}
		pp, err := freePort()
		if err != nil {
			return nil, err
		}
		m := &etcdMember{name: fmt.Sprintf("etcd%d", i+1), clientURL: "http://127.0.0.1:" + strconv.Itoa(cp), exited: make(chan struct{})}
		peer := "http://127.0.0.1:" + strconv.Itoa(pp)
		initial = append(initial, m.name+"="+peer)
		peers = append(peers, peer)
		c.members = append(c.members, m)
	}
	dir := filepath.Join(work, fmt.Sprintf("etcd-%d", time.Now().UnixNano()))
	for i, m := range c.members {
		logf, err := os.Create(filepath.Join(work, m.name+".log"))
		if err != nil {
			c.stop()
			return nil, err
		}
		m.cmd = exec.Command(bin, "--name", m.name, "--data-dir", filepath.Join(dir, m.name),
			"--client-url", m.clientURL, "--peer-url", peers[i], "--initial-cluster", strings.Join(initial, ","))
		m.cmd.Stdout, m.cmd.Stderr = logf, logf
		m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := m.cmd.Start(); err != nil {
			logf.Close()
			c.stop()
			return nil, fmt.Errorf("starting %s: %w", bin, err)
		}
		go func() { m.cmd.Wait(); logf.Close(); close(m.exited) }()
	}
	deadline := time.Now().Add(time.Minute)
	for _, m := range c.members {
		// Its client port first, so that the etcd client does not log
		// its refused dials.
		for {
			conn, err := net.DialTimeout("tcp", strings.TrimPrefix(m.clientURL, "http://"), time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-m.exited:
				c.stop()
				return nil, fmt.Errorf("etcd member %s exited: see %s", m.name, filepath.Join(work, m.name+".log"))
			case <-ctx.Done():
				c.stop()
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				c.stop()
				return nil, fmt.Errorf("etcd member %s did not listen within a minute: %v", m.name, err)
			}
		}
		// A store over this member alone: its status is the member's.
		st, err := store.Dial(ctx, store.DialConfig{Endpoints: []string{m.clientURL}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			c.stop()
			return nil, err
		}
		for {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err = st.DBStatus(sctx)
			cancel()
			if err == nil {
				break
			}
			select {
			case <-m.exited:
				err = fmt.Errorf("etcd member %s exited: see %s", m.name, filepath.Join(work, m.name+".log"))
			default:
				if time.Now().After(deadline) || ctx.Err() != nil {
					err = fmt.Errorf("etcd member %s did not answer within a minute: %v", m.name, err)
				} else {
					err = nil
				}
			}
			if err != nil {
				st.Close()
				c.stop()
				return nil, err
			}
			time.Sleep(100 * time.Millisecond)
		}
		st.Close()
	}
	return c, nil
}

// endpoints are the members' client URLs.
func (c *etcdCluster) endpoints() []string {
	var out []string
	for _, m := range c.members {
		out = append(out, m.clientURL)
	}
	return out
}

// dial returns a store over the cluster.
func (c *etcdCluster) dial(ctx context.Context) (*store.Store, error) {
	return store.Dial(ctx, store.DialConfig{Endpoints: c.endpoints()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// stop ends every member: SIGTERM, then SIGKILL after 10 s.
func (c *etcdCluster) stop() {
	for _, m := range c.members {
		if m.cmd == nil || m.cmd.Process == nil {
			continue
		}
		m.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, m := range c.members {
		if m.cmd == nil || m.cmd.Process == nil {
			continue
		}
		select {
		case <-m.exited:
		case <-time.After(10 * time.Second):
			m.cmd.Process.Kill()
			<-m.exited
		}
	}
}
