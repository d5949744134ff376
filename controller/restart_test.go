package controller_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

// withdrawnFleet stores the fleet with london drained to the withdrawn
// step, and with enough GSLB records that loading the state takes a while,
// then stops the controller and returns its data directory.
func withdrawnFleet(t *testing.T) string {
	t.Helper()
	r := startFleetAt(t, filepath.Join(t.TempDir(), "data"))
	ctx := context.Background()
	var records strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&records, "---\napiVersion: anycast.anyctl.io/v1\nkind: GslbRecord\nmetadata: {name: r%d}\nspec: {zone: gslb, name: r%d, type: a, pops: {all: true}, policy: nearest, ttl: 1}\n", i, i)
	}
	objs, err := manifest.Decode(strings.NewReader(records.String()), "records.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true, DrainPeriod: durationpb.New(controller.MinDrainPeriod)}); err != nil {
		t.Fatal(err)
	}
	await(t, "london withdrawn", func() bool { return popStep(t, r, "london").GetStep() == v1.DrainStep_DRAIN_STEP_WITHDRAWN })
	r.Stop(t)
	return r.DataDir
}

// runOn runs a controller on dataDir listening on the Unix socket sock,
// without waiting for it to be ready, until the test ends.
func runOn(t *testing.T, dataDir, sock string) {
	t.Helper()
	c, err := controller.New(controller.Config{
		Listen:            "unix:" + sock,
		DataDir:           dataDir,
		AllowedPrefixes:   validation.DefaultAllowedPrefixes(),
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		EtcdUnsafeNoFsync: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller stopped with: %v", err)
		}
	})
}

// TestRestartServesTheStoredStateFromTheFirstMessage restarts a controller
// on the data of a fleet with a withdrawn PoP, and connects a DNS server and
// that PoP's agent the moment the controller's socket appears: the first
// snapshot and the first config must already carry the stored state (the
// zone, the PoP out of service and withdrawn), never the empty state of a
// replica still loading.
func TestRestartServesTheStoredStateFromTheFirstMessage(t *testing.T) {
	dataDir := withdrawnFleet(t)
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	runOn(t, dataDir, sock)
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket %q not there after a minute", sock)
		}
		time.Sleep(time.Millisecond)
	}
	conn, err := grpc.NewClient("unix:"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	snapc, cfgc := make(chan *v1.GslbSnapshot, 1), make(chan *v1.PopConfig, 1)
	errc := make(chan error, 2)
	go func() {
		feed, err := v1.NewGslbFeedServiceClient(conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "test"}, grpc.WaitForReady(true))
		if err != nil {
			errc <- err
			return
		}
		m, err := feed.Recv()
		if err != nil {
			errc <- err
			return
		}
		snapc <- m.GetSnapshot()
	}()
	go func() {
		stream, err := v1.NewAgentServiceClient(conn).Connect(ctx, grpc.WaitForReady(true))
		if err != nil {
			errc <- err
			return
		}
		if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "london"}}}); err != nil {
			errc <- err
			return
		}
		m, err := stream.Recv()
		if err != nil {
			errc <- err
			return
		}
		cfgc <- m.GetConfig()
	}()

	for range 2 {
		select {
		case err := <-errc:
			t.Fatalf("first message after the restart: %v", err)
		case snap := <-snapc:
			if len(snap.GetZones()) != 1 {
				t.Errorf("first snapshot after the restart has %d zones, want the stored 1 (revision %d)", len(snap.GetZones()), snap.GetRevision())
			}
			for _, p := range snap.GetPops() {
				if p.GetName() == "london" && p.GetInService() {
					t.Errorf("first snapshot after the restart has the withdrawn london in service")
				}
			}
		case cfg := <-cfgc:
			if m := cfg.GetServices()[0].GetMode(); m != v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN {
				t.Errorf("first config of london after the restart announces in mode %v, want the stored drain's withdrawn mode", m)
			}
		}
	}
}
