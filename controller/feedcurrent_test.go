package controller_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// TestFeedSaysTheSnapshotHeldIsCurrent runs two replicas on one etcd, with
// agents reporting through one of them. A DNS server that subscribes
// holding the revision and digest of the current snapshot, as either
// replica compiled it, is told so instead of being sent it, with the replica's confirmation; the next change comes as
// a snapshot. A server that sends no digest (one from before digests), or
// another digest at that revision (a restored backup, another cluster),
// gets the whole snapshot as before.
func TestFeedSaysTheSnapshotHeldIsCurrent(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	a := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	b := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		t.Fatalf("apply the examples: %v", err)
	}
	rev := resp.GetRevision()

	subscribe := func(r *controllertest.Running, req *v1.SubscribeRequest) v1.GslbFeedService_SubscribeClient {
		t.Helper()
		stream, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(ctx, req)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		return stream
	}
	recv := func(stream v1.GslbFeedService_SubscribeClient) *v1.SubscribeResponse {
		t.Helper()
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		return m
	}
	// Agents report through replica a: eu-west down everywhere, RTTs to
	// the others, so that the snapshots hold health verdicts and RTT
	// maps of several entries (encoded in a random order unless the
	// encoding is deterministic).
	pops := []string{"tokyo", "london", "newyork"}
	for _, p := range pops {
		stream, _ := agentStream(t, ctx, a, p)
		report(t, stream, p, map[string]bool{"eu-west": false, "us-east": true, "ap-northeast": true})
	}
	reported := func(s *v1.GslbSnapshot) bool {
		n := 0
		for _, p := range s.GetPops() {
			if len(p.GetRtt()) == 2 {
				n++
			}
		}
		for _, o := range s.GetOrigins() {
			if o.GetName() == "eu-west" && o.GetHealthy() {
				return false
			}
		}
		return n == len(pops)
	}
	// snapshotOf is the first snapshot of r at rev with the reports.
	snapshotOf := func(r *controllertest.Running) *v1.GslbSnapshot {
		t.Helper()
		sctx, scancel := context.WithCancel(ctx)
		defer scancel()
		stream, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(sctx, &v1.SubscribeRequest{ServerName: "ns0", Revision: rev})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		for {
			if s := recv(stream).GetSnapshot(); s != nil && reported(s) {
				return s
			}
		}
	}

	snapA, snapB := snapshotOf(a), snapshotOf(b)
	if snapA.GetRevision() != rev || snapB.GetRevision() != rev {
		t.Fatalf("snapshots of revisions %d and %d, want %d", snapA.GetRevision(), snapB.GetRevision(), rev)
	}
	digest := snapA.GetDigest()
	if len(digest) != sha256.Size {
		t.Fatalf("snapshot digest %x: want %d bytes", digest, sha256.Size)
	}
	// The digest is the SHA-256 of the snapshot's deterministic encoding
	// without compile time and digest, and the same on both replicas.
	bare := proto.Clone(snapA).(*v1.GslbSnapshot)
	bare.CompiledAt, bare.Digest = nil, nil
	enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(bare)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(enc); !bytes.Equal(sum[:], digest) {
		t.Errorf("digest %x, want the SHA-256 of the snapshot's encoding %x", digest, sum)
	}
	if !bytes.Equal(snapB.GetDigest(), digest) {
		t.Errorf("replica b's snapshot of revision %d has digest %x, replica a's %x: the replicas compiled different snapshots from one state", rev, snapB.GetDigest(), digest)
	}

	held := subscribe(b, &v1.SubscribeRequest{ServerName: "ns1", Revision: rev, Digest: digest})
	m := recv(held)
	if m.GetSnapshot() != nil || m.GetCurrent().GetRevision() != rev || !bytes.Equal(m.GetCurrent().GetDigest(), digest) {
		t.Fatalf("a server holding the current snapshot got %d bytes: snapshot of revision %d, current %v; want only current at revision %d",
			proto.Size(m), m.GetSnapshot().GetRevision(), m.GetCurrent(), rev)
	}
	if m.GetFreshness().GetInterval() == nil {
		t.Errorf("the first response %v says nothing of confirmations", m)
	}

	for name, req := range map[string]*v1.SubscribeRequest{
		"no digest":      {ServerName: "ns2", Revision: rev},
		"another digest": {ServerName: "ns3", Revision: rev, Digest: append(bytes.Clone(digest[1:]), digest[0])},
		"older revision": {ServerName: "ns4", Revision: rev - 1, Digest: digest},
	} {
		m := recv(subscribe(b, req))
		if m.GetCurrent() != nil || !proto.Equal(m.GetSnapshot(), snapB) {
			t.Errorf("%s: first response %d bytes, current %v, want the whole snapshot", name, proto.Size(m), m.GetCurrent())
		}
	}

	// Counted once sent: the count may follow the receipt.
	await(t, "replica b to count its first responses", func() bool {
		m := scrape(t, "http://"+b.Ctrl.MetricsAddr().String()+"/metrics")
		return strings.Contains(m, `anyctl_controller_gslb_feed_first_responses_total{sent="current"} 1`+"\n") &&
			strings.Contains(m, `anyctl_controller_gslb_feed_first_responses_total{sent="snapshot"} 4`+"\n")
	})

	for _, o := range objs {
		if org := o.GetOrigin(); org != nil {
			org.Spec.Weight++
			break
		}
	}
	if _, err := a.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("apply a change: %v", err)
	}
	for {
		m := recv(held)
		if m.GetCurrent() != nil {
			t.Fatalf("current sent again after the first response: %v", m.GetCurrent())
		}
		if s := m.GetSnapshot(); s != nil {
			if s.GetRevision() <= rev || bytes.Equal(s.GetDigest(), digest) {
				t.Fatalf("after the change: snapshot of revision %d, digest %x", s.GetRevision(), s.GetDigest())
			}
			break
		}
	}
}
