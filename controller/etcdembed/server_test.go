package etcdembed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// dataDir returns a directory for etcd that does not exist yet, so that Start
// creates it private.
func dataDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "etcd")
}

func mustPut(t *testing.T, cli *clientv3.Client, key, val string) {
	t.Helper()
	if _, err := cli.Put(testContext(t), key, val); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func mustGet(t *testing.T, cli *clientv3.Client, key string) string {
	t.Helper()
	resp, err := cli.Get(testContext(t), key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("get %q: %d values, want 1", key, len(resp.Kvs))
	}
	return string(resp.Kvs[0].Value)
}

func endpointPort(t *testing.T, endpoint string) int {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("parse endpoint %q: %v", endpoint, err)
	}
	if host := u.Hostname(); host != "127.0.0.1" {
		t.Fatalf("endpoint %q listens on %q, want loopback 127.0.0.1", endpoint, host)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("endpoint %q: port: %v", endpoint, err)
	}
	return port
}

// occupy holds a loopback port until the test ends.
func occupy(t *testing.T, port int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("occupy port %d: %v", port, err)
	}
	t.Cleanup(func() { l.Close() })
}

func TestRestartKeepsDataAndPorts(t *testing.T) {
	dir := dataDir(t)
	first := StartServerForTest(t, dir)
	mustPut(t, ClientForTest(t, first), "/k", "v1")
	saved, err := loadPorts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if endpointPort(t, first.Endpoints()[0]) != saved.Client {
		t.Fatalf("endpoint %s, saved client port %d", first.Endpoints()[0], saved.Client)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	second := StartServerForTest(t, dir)
	if got, want := second.Endpoints(), first.Endpoints(); got[0] != want[0] {
		t.Errorf("endpoints after restart = %v, want %v", got, want)
	}
	if got := mustGet(t, ClientForTest(t, second), "/k"); got != "v1" {
		t.Errorf("value after restart = %q, want %q", got, "v1")
	}
}

func TestTwoServersDoNotCollide(t *testing.T) {
	a := StartServerForTest(t, dataDir(t))
	b := StartServerForTest(t, dataDir(t))
	if a.Endpoints()[0] == b.Endpoints()[0] {
		t.Fatalf("both servers listen on %s", a.Endpoints()[0])
	}
	mustPut(t, ClientForTest(t, a), "/k", "a")
	mustPut(t, ClientForTest(t, b), "/k", "b")
	if got := mustGet(t, ClientForTest(t, a), "/k"); got != "a" {
		t.Errorf("server a has %q, want %q", got, "a")
	}
	if got := mustGet(t, ClientForTest(t, b), "/k"); got != "b" {
		t.Errorf("server b has %q, want %q", got, "b")
	}
}

func TestRestartWithBusyPort(t *testing.T) {
	tests := []struct {
		name string
		busy func(ports) int
	}{
		{"client port busy", func(p ports) int { return p.Client }},
		{"peer port busy", func(p ports) int { return p.Peer }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := dataDir(t)
			first := StartServerForTest(t, dir)
			mustPut(t, ClientForTest(t, first), "/k", "v1")
			if err := first.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			before, err := loadPorts(dir)
			if err != nil {
				t.Fatal(err)
			}
			busy := tt.busy(before)
			occupy(t, busy)

			second := StartServerForTest(t, dir)
			if got := mustGet(t, ClientForTest(t, second), "/k"); got != "v1" {
				t.Errorf("value after restart = %q, want %q", got, "v1")
			}
			after, err := loadPorts(dir)
			if err != nil {
				t.Fatal(err)
			}
			if after.Client == busy || after.Peer == busy {
				t.Fatalf("saved ports %+v still use busy port %d", after, busy)
			}
			if got := endpointPort(t, second.Endpoints()[0]); got != after.Client {
				t.Errorf("client port %d, saved %d", got, after.Client)
			}
			members, err := ClientForTest(t, second).MemberList(testContext(t))
			if err != nil {
				t.Fatalf("member list: %v", err)
			}
			wantPeer := fmt.Sprintf("http://127.0.0.1:%d", after.Peer)
			if len(members.Members) != 1 || len(members.Members[0].PeerURLs) != 1 || members.Members[0].PeerURLs[0] != wantPeer {
				t.Errorf("members = %v, want one member with peer URL %s", members.Members, wantPeer)
			}
			if err := second.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}

			// The chosen ports are kept for the next restart.
			third := StartServerForTest(t, dir)
			if got := endpointPort(t, third.Endpoints()[0]); got != after.Client {
				t.Errorf("third start on client port %d, want the saved %d", got, after.Client)
			}
			if got := mustGet(t, ClientForTest(t, third), "/k"); got != "v1" {
				t.Errorf("value after second restart = %q, want %q", got, "v1")
			}
		})
	}
}

func TestLargeTransaction(t *testing.T) {
	cli := StartForTest(t)
	ops := make([]clientv3.Op, 1001)
	val := string(make([]byte, 2048))
	for i := range ops {
		ops[i] = clientv3.OpPut(fmt.Sprintf("/big/%04d", i), val)
	}
	if _, err := cli.Txn(testContext(t)).Then(ops...).Commit(); err != nil {
		t.Fatalf("transaction of %d puts of %d bytes: %v", len(ops), len(val), err)
	}
}

func TestStartRejectsEmptyDir(t *testing.T) {
	if _, err := Start(testContext(t), Config{}); err == nil {
		t.Fatal("Start with an empty Dir succeeded")
	}
}

// TestStartMemberReportsBusyPort checks the error Start retries on: a port
// taken between choosing and binding must be recognisable.
func TestStartMemberReportsBusyPort(t *testing.T) {
	p, err := choosePorts(ports{})
	if err != nil {
		t.Fatal(err)
	}
	occupy(t, p.Client)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := startMember(testContext(t), Config{Dir: dataDir(t), StartTimeout: time.Minute}, p, newZapLogger(logger, new(atomic.Bool)))
	if err == nil {
		e.Close()
		t.Fatalf("etcd started on busy client port %d", p.Client)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("start on a busy port: %v, want an error wrapping EADDRINUSE", err)
	}
}
