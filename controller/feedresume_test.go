package controller_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestFeedNeverSendsAnOlderStateThanTheServerHolds runs two replicas on one
// etcd, the second behind a path the test cuts, so that its state falls
// behind. A DNS server that moves to it holding the newer snapshot must
// not be sent the older state (it would serve and persist it, its zones'
// serials going back): the stream ends with Unavailable, and the server
// keeps what it holds and tries another replica. A held revision newer
// than every write (another replica's list, another cluster) is served at
// once.
func TestFeedNeverSendsAnOlderStateThanTheServerHolds(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	a := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	p := startCutProxy(t, srv.Endpoints()[0])
	b := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = []string{"http://" + p.addr()} })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	apply := func(name string) int64 {
		t.Helper()
		resp, err := a.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{testPop(name)}})
		if err != nil {
			t.Fatalf("apply pop %s: %v", name, err)
		}
		return resp.GetRevision()
	}
	// snapshotWith subscribes to r holding held and returns the first
	// snapshot that has pop, or the error that ended the stream.
	snapshotWith := func(r *controllertest.Running, held int64, pop string) (*v1.GslbSnapshot, error) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		stream, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(sctx, &v1.SubscribeRequest{ServerName: "ns1", Revision: held})
		if err != nil {
			return nil, err
		}
		for {
			m, err := stream.Recv()
			if err != nil {
				return nil, err
			}
			snap := m.GetSnapshot()
			if held > 0 && snap.GetRevision() < held {
				return snap, nil
			}
			for _, sp := range snap.GetPops() {
				if sp.GetName() == pop {
					return snap, nil
				}
			}
		}
	}

	apply("london")
	old, err := snapshotWith(b, 0, "london")
	if err != nil {
		t.Fatalf("replica b's snapshot: %v", err)
	}
	p.cut.Store(true)
	rev := apply("tokyo")
	newer, err := snapshotWith(a, 0, "tokyo")
	if err != nil || newer.GetRevision() < rev {
		t.Fatalf("replica a's snapshot after the apply: revision %d, %v; want revision %d or later", newer.GetRevision(), err, rev)
	}

	got, err := snapshotWith(b, newer.GetRevision(), "tokyo")
	if got != nil && got.GetRevision() < newer.GetRevision() {
		t.Fatalf("a DNS server holding revision %d was sent revision %d (replica b's, from before the apply; b had sent %d)",
			newer.GetRevision(), got.GetRevision(), old.GetRevision())
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("replica b, behind the DNS server's revision and cut off from etcd: %v; want Unavailable", err)
	}

	// A revision past every write (another cluster's) is not waited for.
	start := time.Now()
	got, err = snapshotWith(a, newer.GetRevision()+1000, "tokyo")
	if err != nil || got.GetRevision() != newer.GetRevision() {
		t.Fatalf("holding a revision past every write: %v, %v; want the current snapshot (revision %d)", got.GetRevision(), err, newer.GetRevision())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("holding a revision past every write: the snapshot came after %s", took)
	}
	p.cut.Store(false)
}

// cutProxy forwards TCP connections to one address; while cut is set it
// drops every byte either way and keeps the connections open, as a
// firewall that drops packets.
type cutProxy struct {
	l   net.Listener
	cut atomic.Bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	u := target
	if i := len("http://"); len(u) > i && u[:i] == "http://" {
		u = u[i:]
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l}
	var mu sync.Mutex // guards conns
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	pipe := func(dst, src net.Conn) {
		defer dst.Close()
		defer src.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.cut.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					return
				}
				return
			}
		}
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", u)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go pipe(up, c)
			go pipe(c, up)
		}
	}()
	return p
}

func (p *cutProxy) addr() string { return p.l.Addr().String() }

// TestReplicasAgreeOnTheSnapshotRevision starts a second replica after
// writes outside the desired state moved etcd's revision on: both must
// send the snapshot of one state at one revision (the last desired-state
// write's), or DNS servers on different replicas serve different SOA
// serials for the same zone, and one moving between them goes back.
func TestReplicasAgreeOnTheSnapshotRevision(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	a := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := a.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{testPop("london")}})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for i := range 5 { // as reports, claims and leases do
		if _, err := cli.Put(ctx, "/anyctl-test/unrelated", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	b := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	first := func(r *controllertest.Running) int64 {
		t.Helper()
		stream, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns1"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return m.GetSnapshot().GetRevision()
	}
	ra, rb := first(a), first(b)
	if ra != resp.GetRevision() || rb != resp.GetRevision() {
		t.Errorf("snapshot revisions: %d from the replica that saw the apply, %d from the one started later; want both %d, the apply's", ra, rb, resp.GetRevision())
	}
}
