package dnsgslb_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// persistedSnapshot is the snapshot file a server persisted for
// gslbtest.Snapshot, in a state directory of its own.
func persistedSnapshot(t *testing.T) (dir string, file []byte) {
	t.Helper()
	dir = t.TempDir()
	newServer(t, dir, gslbtest.Snapshot())
	b, err := os.ReadFile(filepath.Join(dir, "gslb-snapshot.pb"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, b
}

// TestDamagedSnapshotIsRefused: every truncation of a real persisted
// snapshot, every single-byte change, an empty file and a file from before
// the framing are refused, never decoded into another snapshot; the good
// file loads as it was saved.
func TestDamagedSnapshotIsRefused(t *testing.T) {
	dir, good := persistedSnapshot(t)
	if snap, err := dnsgslb.LoadSnapshot(dir); err != nil || !proto.Equal(snap, gslbtest.Snapshot()) {
		t.Fatalf("good file: LoadSnapshot = %v, %v; want the snapshot saved", snap, err)
	}
	unframed, err := proto.Marshal(gslbtest.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gslb-snapshot.pb")
	accepted, tried := 0, 0
	check := func(what string, b []byte) {
		t.Helper()
		tried++
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if snap, err := dnsgslb.LoadSnapshot(dir); err == nil || snap != nil {
			accepted++
			if accepted <= 5 {
				t.Errorf("%s: LoadSnapshot = revision %d, %v; want it refused", what, snap.GetRevision(), err)
			}
		}
	}
	for n := range len(good) {
		check("truncated", good[:n])
	}
	for i := range good {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		check("byte changed", b)
	}
	check("old unframed file", unframed)
	if accepted > 0 {
		t.Errorf("%d damaged files of %d accepted", accepted, tried)
	}
}

// TestDamagedSnapshotServesServfail: a server whose persisted snapshot has
// one changed byte answers SERVFAIL, says so in a metric, and answers
// again once the controller sends a snapshot.
func TestDamagedSnapshotServesServfail(t *testing.T) {
	dir, good := persistedSnapshot(t)
	b := bytes.Clone(good)
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(filepath.Join(dir, "gslb-snapshot.pb"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServer(t, dir, nil))
	q := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	if r := ts.exchange(t, "udp", q); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("damaged snapshot: rcode %s, answer %q; want SERVFAIL", dns.RcodeToString[r.Rcode], rrs(r.Answer))
	}
	if got := refusedGauge(t, ts.Server); got != 1 {
		t.Errorf("anyctl_dns_persisted_snapshot_refused = %v, want 1", got)
	}
	if err := ts.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	want := []string{a("nearest", gslbtest.EUWest4)}
	if got := rrs(ts.exchange(t, "udp", q).Answer); !equal(got, want) {
		t.Errorf("after the controller's snapshot: %q, want %q", got, want)
	}
	if got := refusedGauge(t, ts.Server); got != 0 {
		t.Errorf("after the controller's snapshot: anyctl_dns_persisted_snapshot_refused = %v, want 0", got)
	}
}

// refusedGauge is the server's anyctl_dns_persisted_snapshot_refused, -1
// when it has none.
func refusedGauge(t *testing.T, s *dnsgslb.Server) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "anyctl_dns_persisted_snapshot_refused" && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
