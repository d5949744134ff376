package etcdembed_test

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/anyctl/anyctl/controller/etcdembed"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func mustPut(t *testing.T, cli *clientv3.Client, key, val string) {
	t.Helper()
	if _, err := cli.Put(etcdembed.TestContext(t), key, val); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func mustGet(t *testing.T, cli *clientv3.Client, key string) string {
	t.Helper()
	resp, err := cli.Get(etcdembed.TestContext(t), key)
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

func TestRestartKeepsDataAndPorts(t *testing.T) {
	dir := etcdembed.DataDir(t)
	first := etcdembedtest.StartServer(t, dir)
	mustPut(t, etcdembedtest.Client(t, first), "/k", "v1")
	saved, err := etcdembed.LoadPorts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if endpointPort(t, first.Endpoints()[0]) != saved.Client {
		t.Fatalf("endpoint %s, saved client port %d", first.Endpoints()[0], saved.Client)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	second := etcdembedtest.StartServer(t, dir)
	if got, want := second.Endpoints(), first.Endpoints(); got[0] != want[0] {
		t.Errorf("endpoints after restart = %v, want %v", got, want)
	}
	if got := mustGet(t, etcdembedtest.Client(t, second), "/k"); got != "v1" {
		t.Errorf("value after restart = %q, want %q", got, "v1")
	}
}

func TestTwoServersDoNotCollide(t *testing.T) {
	a := etcdembedtest.StartServer(t, etcdembed.DataDir(t))
	b := etcdembedtest.StartServer(t, etcdembed.DataDir(t))
	if a.Endpoints()[0] == b.Endpoints()[0] {
		t.Fatalf("both servers listen on %s", a.Endpoints()[0])
	}
	mustPut(t, etcdembedtest.Client(t, a), "/k", "a")
	mustPut(t, etcdembedtest.Client(t, b), "/k", "b")
	if got := mustGet(t, etcdembedtest.Client(t, a), "/k"); got != "a" {
		t.Errorf("server a has %q, want %q", got, "a")
	}
	if got := mustGet(t, etcdembedtest.Client(t, b), "/k"); got != "b" {
		t.Errorf("server b has %q, want %q", got, "b")
	}
}

func TestRestartWithBusyPort(t *testing.T) {
	tests := []struct {
		name string
		busy func(etcdembed.Ports) int
	}{
		{"client port busy", func(p etcdembed.Ports) int { return p.Client }},
		{"peer port busy", func(p etcdembed.Ports) int { return p.Peer }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := etcdembed.DataDir(t)
			first := etcdembedtest.StartServer(t, dir)
			mustPut(t, etcdembedtest.Client(t, first), "/k", "v1")
			if err := first.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			before, err := etcdembed.LoadPorts(dir)
			if err != nil {
				t.Fatal(err)
			}
			busy := tt.busy(before)
			etcdembed.Occupy(t, busy)

			second := etcdembedtest.StartServer(t, dir)
			if got := mustGet(t, etcdembedtest.Client(t, second), "/k"); got != "v1" {
				t.Errorf("value after restart = %q, want %q", got, "v1")
			}
			after, err := etcdembed.LoadPorts(dir)
			if err != nil {
				t.Fatal(err)
			}
			if after.Client == busy || after.Peer == busy {
				t.Fatalf("saved ports %+v still use busy port %d", after, busy)
			}
			if got := endpointPort(t, second.Endpoints()[0]); got != after.Client {
				t.Errorf("client port %d, saved %d", got, after.Client)
			}
			members, err := etcdembedtest.Client(t, second).MemberList(etcdembed.TestContext(t))
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
			third := etcdembedtest.StartServer(t, dir)
			if got := endpointPort(t, third.Endpoints()[0]); got != after.Client {
				t.Errorf("third start on client port %d, want the saved %d", got, after.Client)
			}
			if got := mustGet(t, etcdembedtest.Client(t, third), "/k"); got != "v1" {
				t.Errorf("value after second restart = %q, want %q", got, "v1")
			}
		})
	}
}

func TestLargeTransaction(t *testing.T) {
	cli := etcdembedtest.Start(t)
	ops := make([]clientv3.Op, 1001)
	val := string(make([]byte, 2048))
	for i := range ops {
		ops[i] = clientv3.OpPut(fmt.Sprintf("/big/%04d", i), val)
	}
	if _, err := cli.Txn(etcdembed.TestContext(t)).Then(ops...).Commit(); err != nil {
		t.Fatalf("transaction of %d puts of %d bytes: %v", len(ops), len(val), err)
	}
}
