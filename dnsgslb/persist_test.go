package dnsgslb_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestPersistence: a server restarted with the same state directory and no
// controller answers from the snapshot it had.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	want := []string{a("nearest", gslbtest.EUWest4)}

	first := newServer(t, dir, gslbtest.Snapshot())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	<-first.Ready()
	u, c := first.Addr()
	ts := &testServer{Server: first, udp: u.String(), tcp: c.String()}
	if got := rrs(ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)).Answer); !equal(got, want) {
		t.Fatalf("first server: %q, want %q", got, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	second := run(t, newServer(t, dir, nil))
	if got := second.Index().Revision(); got != 7 {
		t.Errorf("restarted server serves revision %d, want 7", got)
	}
	for _, network := range []string{"udp", "tcp"} {
		if got := rrs(second.exchange(t, network, msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)).Answer); !equal(got, want) {
			t.Errorf("restarted server over %s: %q, want %q", network, got, want)
		}
	}
}

// TestStartRemovesTemporaries: temporary files that writes of the state
// files left behind when cut short (a crash) are removed at start, also
// from a state directory whose name has characters special to a glob;
// the state files themselves are read and kept.
func TestStartRemovesTemporaries(t *testing.T) {
	for _, name := range []string{"state", "state[1]"} {
		t.Run(name, func(t *testing.T) { testStartRemovesTemporaries(t, filepath.Join(t.TempDir(), name)) })
	}
}

func testStartRemovesTemporaries(t *testing.T, dir string) {
	newServer(t, dir, gslbtest.Snapshot())
	stale := []string{".gslb-snapshot.pb.tmp123", ".gslb-table.bin.456"}
	for _, name := range stale {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("cut short"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := newServer(t, dir, nil)
	if got := s.Index().Revision(); got != 7 {
		t.Errorf("restarted server serves revision %d, want 7", got)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want it removed", name, err)
		}
	}
	for _, name := range []string{"gslb-snapshot.pb", "gslb-table.bin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("state file %s: %v", name, err)
		}
	}
}

// TestNoSnapshot: before any snapshot the server answers SERVFAIL, so
// resolvers try another server.
func TestNoSnapshot(t *testing.T) {
	ts := run(t, newServer(t, t.TempDir(), nil))
	r := ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, ""))
	if r.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

// TestCorruptStateFile: a damaged snapshot file does not keep the server
// from starting; it answers SERVFAIL until the next Update, which replaces
// the file.
func TestCorruptStateFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gslb-snapshot.pb"), []byte("\xff\xff not a snapshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServer(t, dir, nil))
	if r := ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, "")); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
	if err := ts.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if s := newServer(t, dir, nil); s.Index() == nil || s.Index().Revision() != 7 {
		t.Error("the state file was not replaced by the update")
	}
}

// TestUpdateServesWhenSavingFails: a snapshot that cannot be saved is still
// served, and the error says so (ErrNotPersisted), so the feed does not log
// it as rejected.
func TestUpdateServesWhenSavingFails(t *testing.T) {
	dir := t.TempDir()
	s := newServer(t, dir, nil)
	// Make the state dir unusable for the save: replace it by a file.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := s.Update(gslbtest.Snapshot())
	if !errors.Is(err, dnsgslb.ErrNotPersisted) {
		t.Fatalf("Update = %v, want an error wrapping ErrNotPersisted", err)
	}
	if ix := s.Index(); ix == nil || ix.Revision() != gslbtest.Snapshot().GetRevision() {
		t.Fatalf("index after a failed save: %v, want the new snapshot served", ix)
	}
}

// TestRestartAnswersFromThePersistedTable: a restarted server answers from
// the prefix table it persisted, without the GeoIP database. The test
// damages the database's search tree (keeping its size, modification time
// and metadata, so that it is still named the same) before the restart:
// the answers and scopes stay those of the first server, although the
// database can no longer be read.
func TestRestartAnswersFromThePersistedTable(t *testing.T) {
	dir := t.TempDir()
	cfg := dnsgslb.Config{StateDir: dir, GeoIPPath: geoDB(t)}
	first := run(t, newServerWith(t, cfg, gslbtest.Snapshot()))
	if _, err := os.Stat(filepath.Join(dir, "gslb-table.bin")); err != nil {
		t.Fatalf("no prefix table persisted: %v", err)
	}
	queries := []*dns.Msg{
		msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London),
		msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.Tokyo),
		msg(t, "eu-only.gslb.example.com.", dns.TypeA, gslbtest.Frankfurt),
	}
	var want []*dns.Msg
	for _, q := range queries {
		want = append(want, first.exchange(t, "udp", q))
	}

	fi, err := os.Stat(cfg.GeoIPPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfg.GeoIPPath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 64), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(cfg.GeoIPPath, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}

	second := run(t, newServerWith(t, cfg, nil))
	for i, q := range queries {
		got := second.exchange(t, "udp", q)
		if !equal(rrs(got.Answer), rrs(want[i].Answer)) || scopeOf(got) != scopeOf(want[i]) {
			t.Errorf("%s from %s: restarted server %q scope /%d, first server %q scope /%d", q.Question[0].Name, ecsOf(q),
				rrs(got.Answer), scopeOf(got), rrs(want[i].Answer), scopeOf(want[i]))
		}
	}
}

func scopeOf(m *dns.Msg) int {
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if e, ok := opt.(*dns.EDNS0_SUBNET); ok {
				return int(e.SourceScope)
			}
		}
	}
	return -1
}

func ecsOf(m *dns.Msg) string {
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if e, ok := opt.(*dns.EDNS0_SUBNET); ok {
				return e.String()
			}
		}
	}
	return "no ECS"
}
