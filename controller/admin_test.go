package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc/status"
)

const tokyoYAML = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo}
spec: {location: {latitude: 35.6, longitude: 139.6, country: JP, continent: AS, region: apac}, localAsn: 64512, routerId: 192.0.2.251, unicastAddresses: [192.0.2.11], peers: [{address: 198.51.100.1, peerAsn: 64500}]}
`

// TestCommittedWritesAreAnsweredAsCommittedWhileTheCacheLags applies and
// deletes through a replica whose cache does not follow the store: the
// writes commit, and must be answered as done before the caller's deadline,
// not as a deadline exceeded.
func TestCommittedWritesAreAnsweredAsCommittedWhileTheCacheLags(t *testing.T) {
	h := newHarness(t)
	a := &adminServer{log: h.log, st: h.st, opts: validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()}, metrics: h.m, cache: h.cache}
	objs, err := manifest.Decode(strings.NewReader(tokyoYAML), "tokyo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tokyo := resource.Ref{Kind: v1.Kind_KIND_POP, Name: "tokyo"}
	for _, c := range []struct {
		name  string
		write func(context.Context) (int64, error)
		there bool
	}{
		{"apply", func(ctx context.Context) (int64, error) {
			resp, err := a.Apply(ctx, &v1.ApplyRequest{Objects: objs})
			return resp.GetRevision(), err
		}, true},
		{"delete", func(ctx context.Context) (int64, error) {
			resp, err := a.Delete(ctx, &v1.DeleteRequest{Kind: tokyo.Kind, Name: tokyo.Name})
			return resp.GetRevision(), err
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			rev, err := c.write(ctx)
			if err != nil || rev == 0 {
				t.Fatalf("%s answered revision %d, error %v; want the committed revision", c.name, rev, err)
			}
			_, err = h.st.Get(context.Background(), tokyo)
			if there := err == nil; there != c.there {
				t.Fatalf("after the %s, tokyo stored: %v (%v)", c.name, there, err)
			}
		})
	}
}

// TestDrainIsAnsweredAsCommittedWhileTheFleetMirrorLags drains through a
// replica whose fleet state does not follow etcd: the drain commits, and
// must be answered as done, not with the raw context error of the wait.
func TestDrainIsAnsweredAsCommittedWhileTheFleetMirrorLags(t *testing.T) {
	h := newHarness(t, popObject("london"))
	h.runCache()
	awaitClosed(t, "the desired state loaded", h.cache.Ready())
	a := &adminServer{log: h.log, st: h.st, metrics: h.m, cache: h.cache, fleet: h.fleet, reports: h.sw, drainPeriod: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	resp, err := a.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true})
	if err != nil {
		t.Fatalf("drain: %v (code %v); want it answered as committed", err, status.Code(err))
	}
	if resp.GetState().GetStep() != v1.DrainStep_DRAIN_STEP_GSLB {
		t.Errorf("drain answered step %v, want the GSLB step", resp.GetState().GetStep())
	}
	if r, ok := h.storedDrain(t, "london"); !ok || !r.Draining {
		t.Fatalf("london's drain record after the drain: %+v (stored %v)", r, ok)
	}
}
