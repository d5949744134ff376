// Package etcdcluster runs a real multi-member etcd cluster for tests:
// each member a separate process of the etcdmember command (the etcd
// server of the module's own etcd version), built once per test binary
// with `go build`. Members can be killed (SIGKILL) and restarted on their
// data, and the cluster can require TLS with client certificates and
// etcd's user/password auth, as a production cluster does.
package etcdcluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn/authntest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Options says what cluster to run.
type Options struct {
	// Members is the number of members; default 3.
	Members int
	// TLS serves clients and peers over TLS and requires client
	// certificates.
	TLS bool
	// Auth turns on etcd auth, with a root user and a user for the
	// controller whose role may read and write the controller's prefix.
	Auth bool
	// Prefix is the key prefix the controller's user may use; default
	// "/anyctl/".
	Prefix string
}

// Cluster is a running cluster.
type Cluster struct {
	// CAFile, CertFile and KeyFile are a client's TLS files (with TLS).
	CAFile, CertFile, KeyFile string
	// CA signed the members' and the client's certificates (with TLS).
	CA *authntest.CA
	// Username and PasswordFile are the controller's etcd user (with
	// Auth).
	Username, PasswordFile string

	t       testing.TB
	opts    Options
	bin     string
	members []*member
	rootPW  string
}

type member struct {
	name, dir, clientURL, peerURL string
	args                          []string
	log                           *bytes.Buffer

	mu  sync.Mutex // guards cmd and done
	cmd *exec.Cmd
	// done is closed when the process has exited.
	done chan struct{}
}

// builds holds the commands built by this test binary, by import path.
var builds sync.Map // string → *built

type built struct {
	once sync.Once
	path string
	err  error
}

// Build builds the command at a Go import path once per test binary and
// returns the path of the executable.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &built{})
	b := v.(*built)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "etcdcluster-build-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, path.Base(pkg))
		out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Binary builds the etcdmember command once per test binary and returns
// its path.
func Binary(t testing.TB) string {
	t.Helper()
	return Build(t, "github.com/anyctl/anyctl/controller/etcdembed/etcdmember")
}

// Start starts the cluster and waits until it serves; it is stopped when
// the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Members == 0 {
		opts.Members = 3
	}
	if opts.Prefix == "" {
		opts.Prefix = "/anyctl/"
	}
	c := &Cluster{t: t, opts: opts, bin: Binary(t)}
	dir := t.TempDir()
	scheme := "http"
	var tlsArgs []string
	if opts.TLS {
		scheme = "https"
		ca := authntest.NewCA(t, "etcd")
		srv := ca.Issue(t, authntest.Subject{CommonName: "etcd", DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
		cli := ca.Issue(t, authntest.Subject{CommonName: "anyctl-controller"})
		c.CAFile, c.CertFile, c.KeyFile, c.CA = ca.CertFile, cli.Cert, cli.Key, ca
		tlsArgs = []string{
			"--cert-file", srv.Cert, "--key-file", srv.Key, "--trusted-ca-file", ca.CertFile,
			"--peer-cert-file", srv.Cert, "--peer-key-file", srv.Key, "--peer-trusted-ca-file", ca.CertFile,
		}
	}
	var initial []string
	for i := range opts.Members {
		m := &member{
			name:      fmt.Sprintf("m%d", i+1),
			clientURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, freePort(t)),
			peerURL:   fmt.Sprintf("%s://127.0.0.1:%d", scheme, freePort(t)),
			log:       &bytes.Buffer{},
		}
		m.dir = filepath.Join(dir, m.name)
		initial = append(initial, m.name+"="+m.peerURL)
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		m.args = append([]string{"--name", m.name, "--data-dir", m.dir, "--client-url", m.clientURL, "--peer-url", m.peerURL,
			"--initial-cluster", strings.Join(initial, ","), "--unsafe-no-fsync"}, tlsArgs...)
		c.start(m)
	}
	t.Cleanup(c.stopAll)
	c.AwaitWritable(time.Minute)
	if opts.Auth {
		c.enableAuth()
	}
	return c
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.members {
		out = append(out, m.clientURL)
	}
	return out
}

// ControllerFlags are the `anyctl controller` flags that reach this
// cluster.
func (c *Cluster) ControllerFlags() []string {
	f := []string{"--etcd-endpoints", strings.Join(c.Endpoints(), ",")}
	if c.opts.TLS {
		f = append(f, "--etcd-ca", c.CAFile, "--etcd-cert", c.CertFile, "--etcd-key", c.KeyFile)
	}
	if c.opts.Auth {
		f = append(f, "--etcd-username", c.Username, "--etcd-password-file", c.PasswordFile)
	}
	return f
}

func (c *Cluster) start(m *member) {
	c.t.Helper()
	cmd := exec.Command(c.bin, m.args...)
	cmd.Stdout, cmd.Stderr = m.log, m.log
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("etcd member %s: %v", m.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
}

// Kill SIGKILLs member i (from 0) and waits until it has exited.
func (c *Cluster) Kill(i int) {
	m := c.members[i]
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	m.mu.Lock()
	m.cmd = nil
	m.mu.Unlock()
}

// Restart starts member i again on its data.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.start(c.members[i])
}

func (c *Cluster) stopAll() {
	for _, m := range c.members {
		m.mu.Lock()
		cmd, done := m.cmd, m.done
		m.mu.Unlock()
		if cmd == nil {
			continue
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if c.t.Failed() {
			c.t.Logf("etcd member %s log:\n%s", m.name, m.log.String())
		}
	}
}

// Client returns a client of the cluster as root (with Auth) over TLS
// (with TLS); it is closed when the test ends.
func (c *Cluster) Client() *clientv3.Client {
	c.t.Helper()
	cfg := clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second}
	if c.opts.TLS {
		tc, err := (&tlsFiles{ca: c.CAFile, cert: c.CertFile, key: c.KeyFile}).config()
		if err != nil {
			c.t.Fatal(err)
		}
		cfg.TLS = tc
	}
	if c.rootPW != "" {
		cfg.Username, cfg.Password = "root", c.rootPW
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// AwaitWritable waits until a write through the cluster succeeds.
func (c *Cluster) AwaitWritable(within time.Duration) {
	c.t.Helper()
	cli := c.Client()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := cli.Put(ctx, c.opts.Prefix+"etcdcluster-probe", "1")
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("etcd cluster not writable after %s: %v", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// enableAuth adds root and the controller's user, whose role may read and
// write Prefix only, and turns auth on.
func (c *Cluster) enableAuth() {
	c.t.Helper()
	cli := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.rootPW, c.Username = "root-secret", "anyctl"
	userPW := "controller-secret"
	c.PasswordFile = filepath.Join(c.t.TempDir(), "etcd-password")
	if err := os.WriteFile(c.PasswordFile, []byte(userPW+"\n"), 0o600); err != nil {
		c.t.Fatal(err)
	}
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", c.rootPW); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.RoleAdd(ctx, "anyctl"); return err },
		func() error {
			_, err := cli.RoleGrantPermission(ctx, "anyctl", c.opts.Prefix, clientv3.GetPrefixRangeEnd(c.opts.Prefix), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := cli.UserAdd(ctx, c.Username, userPW); return err },
		func() error { _, err := cli.UserGrantRole(ctx, c.Username, "anyctl"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			c.t.Fatalf("etcd auth setup step %d: %v", i+1, err)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
