package feed_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// waitLimit bounds every wait for the controller or the feed.
const waitLimit = time.Minute

// TestFeedFollowsController: the example deployment's snapshot arrives, a
// change applied through the Admin API arrives, and after the controller
// restarts on the same data and address the client reconnects, gets the
// snapshot again and follows the new controller's changes.
func TestFeedFollowsController(t *testing.T) {
	dir := t.TempDir()
	ctl := startController(t, dir)
	applyObjects(t, ctl, exampleObjects(t)...)
	f := startFeed(t, ctl.Addr)

	first := f.await(t, "the example snapshot", func(s *v1.GslbSnapshot) bool { return len(s.GetZones()) > 0 })
	if got := first.GetZones()[0].GetSpec().GetZone(); got != "gslb.example.com." {
		t.Errorf("zone %q, want %q", got, "gslb.example.com.")
	}
	if len(first.GetOrigins()) != 3 || len(first.GetRecords()) == 0 {
		t.Errorf("snapshot has %d origins and %d records, want 3 and some", len(first.GetOrigins()), len(first.GetRecords()))
	}
	f.logs.await(t, "gslb feed connected")

	applyObjects(t, ctl, originWithWeight(t, "eu-west", 31))
	f.await(t, "eu-west at weight 31", weightIs("eu-west", 31))

	ctl.Stop(t)
	f.logs.await(t, "gslb feed lost")
	f.drain()
	ctl = startController(t, dir)
	again := f.await(t, "the snapshot from the restarted controller", weightIs("eu-west", 31))
	if len(again.GetZones()) != 1 || len(again.GetOrigins()) != 3 {
		t.Errorf("after the restart: %d zones and %d origins, want 1 and 3", len(again.GetZones()), len(again.GetOrigins()))
	}
	applyObjects(t, ctl, originWithWeight(t, "eu-west", 32))
	f.await(t, "eu-west at weight 32 from the restarted controller", weightIs("eu-west", 32))
}

// TestFeedKeepsStreamWhenApplyFails: a snapshot the server rejects is
// logged and the stream carries on to the next one without reconnecting.
func TestFeedKeepsStreamWhenApplyFails(t *testing.T) {
	ctl := startController(t, t.TempDir())
	applyObjects(t, ctl, exampleObjects(t)...)
	var rejected atomic.Bool
	f := startFeedWith(t, ctl.Addr, func(s *v1.GslbSnapshot) error {
		if rejected.CompareAndSwap(false, true) {
			return errTest
		}
		return nil
	})
	f.logs.await(t, "gslb snapshot rejected")
	applyObjects(t, ctl, originWithWeight(t, "us-east", 51))
	f.await(t, "us-east at weight 51", weightIs("us-east", 51))
	if f.logs.has("gslb feed lost") {
		t.Errorf("the stream was dropped after a rejected snapshot; log:\n%s", f.logs.String())
	}
}

// TestFeedRetriesUntilCancelled: with no controller at the address, Run
// logs that it cannot reach it, keeps retrying, and returns nil once its
// context is cancelled.
func TestFeedRetriesUntilCancelled(t *testing.T) {
	addr := "unix:" + filepath.Join(t.TempDir(), "nobody.sock")
	logs := newLogRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- feed.Run(ctx, feed.Config{Controller: addr, Logger: slog.New(logs)},
			func(context.Context, *v1.GslbSnapshot) error { return nil }, func() int64 { return 0 })
	}()
	logs.await(t, "cannot reach the controller")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

// TestFeedSaysWhyTheControllerRefusedIt: a certificate without the dns
// role is refused, and the feed logs the refusal, not a bare EOF.
func TestFeedSaysWhyTheControllerRefusedIt(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	ctl := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
	})
	logs := newLogRecorder()
	runFeed(t, feed.Config{Controller: ctl.Addr, TLS: reloader(t, ca.ClientFiles(t, "tokyo", authn.RoleAgent)), TLSServerName: "127.0.0.1", Logger: slog.New(logs)}, nil, nil)
	logs.await(t, "cannot reach the controller's gslb feed")
	want := `code = PermissionDenied desc = /anycast.v1.GslbFeedService/Subscribe: caller "tokyo" has role agent`
	if !logs.has(want) {
		t.Errorf("the feed does not log %q; log:\n%s", want, logs.String())
	}
}

// TestFeedSaysWhenTheSnapshotIsTooLarge: a snapshot over the size the
// server accepts is an error naming the limit, at every attempt, not a
// warning that the controller cannot be reached followed by silence.
func TestFeedSaysWhenTheSnapshotIsTooLarge(t *testing.T) {
	ctl := startController(t, t.TempDir())
	applyObjects(t, ctl, exampleObjects(t)...)
	logs := newLogRecorder()
	runFeed(t, feed.Config{Controller: ctl.Addr, Logger: slog.New(logs), MaxSnapshotBytes: 512}, nil, nil)
	const want = "the controller's GSLB snapshot is larger than this DNS server accepts (512 bytes at most)"
	for range 2 {
		logs.await(t, "ERROR gslb snapshot refused for its size")
		if !logs.has(want) {
			t.Fatalf("the feed does not log %q; log:\n%s", want, logs.String())
		}
		logs.reset()
	}
}

func TestRunRejectsConfig(t *testing.T) {
	ok := func(context.Context, *v1.GslbSnapshot) error { return nil }
	rev := func() int64 { return 0 }
	tests := []struct {
		desc       string
		controller string
		apply      func(context.Context, *v1.GslbSnapshot) error
		revision   func() int64
		want       string
	}{
		{"no controller", "", ok, rev, `feed: Controller "": want host:port or unix:PATH`},
		{"no port", "controller.example", ok, rev, `feed: Controller "controller.example": want host:port or unix:PATH`},
		{"empty socket path", "unix:", ok, rev, `feed: Controller "unix:": want unix:PATH with a path`},
		{"no apply", "127.0.0.1:7400", nil, rev, "feed: apply and revision must not be nil"},
		{"no revision", "127.0.0.1:7400", ok, nil, "feed: apply and revision must not be nil"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := feed.Run(context.Background(), feed.Config{Controller: tc.controller}, tc.apply, tc.revision)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Run: %v, want an error starting %q", err, tc.want)
			}
		})
	}
}

type testError struct{}

func (testError) Error() string { return "rejected by the test" }

var errTest = testError{}

// startController runs a controller on data in dir, listening on a Unix
// socket in dir, so that a restart on the same dir has the same address.
func startController(t *testing.T, dir string) *controllertest.Running {
	t.Helper()
	sock := "unix:" + filepath.Join(dir, "ctl.sock")
	return controllertest.StartAt(t, filepath.Join(dir, "controller"), func(c *controller.Config) { c.Listen = sock })
}

func exampleObjects(t *testing.T) []*v1.Object {
	t.Helper()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatalf("example deployment: %v", err)
	}
	return objs
}

func applyObjects(t *testing.T, ctl *controllertest.Running, objs ...*v1.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// originWithWeight is the example origin name with another weight.
func originWithWeight(t *testing.T, name string, weight int32) *v1.Object {
	t.Helper()
	for _, o := range exampleObjects(t) {
		if org := o.GetOrigin(); org != nil && org.GetMetadata().GetName() == name {
			org.Spec.Weight = weight
			return o
		}
	}
	t.Fatalf("no origin %q in the example deployment", name)
	return nil
}

func weightIs(origin string, weight int32) func(*v1.GslbSnapshot) bool {
	return func(s *v1.GslbSnapshot) bool {
		for _, o := range s.GetOrigins() {
			if o.GetName() == origin {
				return o.GetSpec().GetWeight() == weight
			}
		}
		return false
	}
}

// runningFeed is a feed.Run under test and what it delivered.
type runningFeed struct {
	snaps chan *v1.GslbSnapshot
	logs  *logRecorder
}

func startFeed(t *testing.T, addr string) *runningFeed {
	t.Helper()
	return startFeedWith(t, addr, func(*v1.GslbSnapshot) error { return nil })
}

// runFeed runs feed.Run with cfg until the test ends, giving it apply and
// held (nil: accept every snapshot, hold none), and fails the test if Run
// errs or does not return once cancelled.
func runFeed(t *testing.T, cfg feed.Config, apply func(context.Context, *v1.GslbSnapshot) error, held func() int64) {
	t.Helper()
	if apply == nil {
		apply = func(context.Context, *v1.GslbSnapshot) error { return nil }
	}
	if held == nil {
		held = func() int64 { return 0 }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- feed.Run(ctx, cfg, apply, held) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("feed.Run: %v", err)
			}
		case <-time.After(waitLimit):
			t.Error("feed.Run did not return after cancel")
		}
	})
}

// startFeedWith runs the feed until the test ends; every snapshot goes
// through apply, and those it accepts to the test.
func startFeedWith(t *testing.T, addr string, apply func(*v1.GslbSnapshot) error) *runningFeed {
	t.Helper()
	f := &runningFeed{snaps: make(chan *v1.GslbSnapshot, 1024), logs: newLogRecorder()}
	var held atomic.Int64
	runFeed(t, feed.Config{Controller: addr, ServerName: t.Name(), Logger: slog.New(f.logs)},
		func(_ context.Context, s *v1.GslbSnapshot) error {
			if err := apply(s); err != nil {
				return err
			}
			held.Store(s.GetRevision())
			f.snaps <- proto.Clone(s).(*v1.GslbSnapshot)
			return nil
		}, held.Load)
	return f
}

// await returns the first delivered snapshot that ok accepts.
func (f *runningFeed) await(t *testing.T, what string, ok func(*v1.GslbSnapshot) bool) *v1.GslbSnapshot {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case s := <-f.snaps:
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no snapshot with %s within %s; log:\n%s", what, waitLimit, f.logs.String())
		}
	}
}

// drain forgets the snapshots delivered so far.
func (f *runningFeed) drain() {
	for {
		select {
		case <-f.snaps:
		default:
			return
		}
	}
}

// logRecorder is a slog.Handler keeping every message, for tests that wait
// for the feed to log a connection state.
type logRecorder struct {
	mu      sync.Mutex // guards lines
	lines   []string
	changed chan struct{} // signalled after each new line
}

func newLogRecorder() *logRecorder { return &logRecorder{changed: make(chan struct{}, 1)} }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return nil
}

// reset forgets the messages kept so far.
func (l *logRecorder) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = nil
}

func (l *logRecorder) has(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			return true
		}
	}
	return false
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// await waits until a message containing substr has been logged.
func (l *logRecorder) await(t *testing.T, substr string) {
	t.Helper()
	deadline := time.After(waitLimit)
	for !l.has(substr) {
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("nothing logged containing %q within %s; log:\n%s", substr, waitLimit, l.String())
		}
	}
}

// reloader reads files for a client's mutual TLS.
func reloader(t *testing.T, files authn.Files) *authn.Reloader {
	t.Helper()
	r, err := authn.NewReloader(files, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
