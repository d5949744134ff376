package dnsgslb_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestRestartWithAnotherGeoIPFile: a server restarting with its snapshot
// and prefix table persisted answers at once when the GeoIP file changed
// while it was down (geoipupdate between two runs): clients are placed by
// the persisted table, as before, until the new file is read, then as the
// new file says. A file that cannot be read, or not even opened, keeps
// the persisted table's placement, snapshots of the same PoP networks
// compile with it, and a reload of a good file replaces it.
func TestRestartWithAnotherGeoIPFile(t *testing.T) {
	for _, tt := range []struct {
		name     string
		change   func(t *testing.T, path string)
		readable bool
	}{
		{"another version", func(t *testing.T, path string) { replaceFile(t, path, londonInTokyo()) }, true},
		{"tree damaged", damageTree, false},
		{"another version, its tree damaged", func(t *testing.T, path string) {
			replaceFile(t, path, londonInTokyo())
			damageTree(t, path)
		}, false},
		{"removed", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"not a database", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("not a database\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, dir := geoDB(t), t.TempDir()
			newServerWith(t, dnsgslb.Config{GeoIPPath: path, StateDir: dir}, gslbtest.Snapshot())
			tt.change(t, path)

			release := dnsgslb.HoldFirstGeoIPRead(t)
			made := make(chan *dnsgslb.Server, 1)
			go func() {
				s, err := dnsgslb.New(dnsgslb.Config{
					Listen: "127.0.0.1:0", GeoIPPath: path, StateDir: dir,
					DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				if err != nil {
					t.Errorf("New: %v", err)
				}
				made <- s
			}()
			var s *dnsgslb.Server
			select {
			case s = <-made:
			case <-time.After(10 * time.Second):
				release()
				t.Fatal("New still waits for the GeoIP file to be read 10 s later: the restart does not answer from its persisted table")
			}
			if s == nil {
				return
			}
			ts := run(t, s)
			q := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
			before := []string{a("nearest", gslbtest.EUWest4)}
			if r := ts.exchange(t, "udp", q); r.Rcode != dns.RcodeSuccess || !equal(rrs(r.Answer), before) {
				t.Fatalf("before the file is read: rcode %s, answer %q; want %q, placed by the persisted table", dns.RcodeToString[r.Rcode], rrs(r.Answer), before)
			}
			release()

			after := []string{a("nearest", gslbtest.APNortheast4)}
			if tt.readable {
				await(t, "placed by the new file", func() bool {
					r := ts.exchange(t, "udp", q)
					return r.Rcode == dns.RcodeSuccess && equal(rrs(r.Answer), after)
				})
				want, err := geo.Identify(path)
				if err != nil {
					t.Fatal(err)
				}
				await(t, "the new file's table persisted", func() bool {
					tab, err := geo.ReadTableFile(filepath.Join(dir, "gslb-table.bin"))
					return err == nil && tab.DBID() == want
				})
				return
			}

			await(t, "the file's read refused", func() bool { return gather(t, ts.Server)["anyctl_dns_geoip_reload_failing{}"] == 1 })
			next := gslbtest.Snapshot()
			next.Revision++
			next.Records[0].Spec.Ttl = 60 // "nearest"
			if err := ts.Update(next); err != nil {
				t.Fatalf("an update while the file cannot be read: %v", err)
			}
			updated := []string{"nearest.gslb.example.com. 60 IN A " + gslbtest.EUWest4}
			if r := ts.exchange(t, "udp", q); r.Rcode != dns.RcodeSuccess || !equal(rrs(r.Answer), updated) {
				t.Fatalf("after an update while the file cannot be read: rcode %s, answer %q; want %q", dns.RcodeToString[r.Rcode], rrs(r.Answer), updated)
			}
			after = []string{"nearest.gslb.example.com. 60 IN A " + gslbtest.APNortheast4}
			replaceFile(t, path, londonInTokyo())
			if err := ts.ReloadGeoIP(context.Background()); err != nil {
				t.Fatalf("ReloadGeoIP of a good file: %v", err)
			}
			if r := ts.exchange(t, "udp", q); r.Rcode != dns.RcodeSuccess || !equal(rrs(r.Answer), after) {
				t.Errorf("after the reload: rcode %s, answer %q; want %q", dns.RcodeToString[r.Rcode], rrs(r.Answer), after)
			}
			if got := gather(t, ts.Server)["anyctl_dns_geoip_reload_failing{}"]; got != 0 {
				t.Errorf("after the reload: reload_failing %v, want 0", got)
			}
		})
	}
}

// TestStopDuringStart: a start that must read the GeoIP database before
// it can answer (the persisted snapshot without its prefix table) ends
// as soon as its context does, as on SIGTERM, rather than after the read
// and the build of a table: seconds at City size.
func TestStopDuringStart(t *testing.T) {
	path, dir := geoDB(t), t.TempDir()
	newServerWith(t, dnsgslb.Config{GeoIPPath: path, StateDir: dir}, gslbtest.Snapshot())
	if err := os.Remove(filepath.Join(dir, "gslb-table.bin")); err != nil {
		t.Fatal(err)
	}
	release := dnsgslb.HoldFirstGeoIPRead(t)
	read := dnsgslb.FirstGeoIPReadEnds(t)
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() {
		_, err := dnsgslb.NewContext(ctx, dnsgslb.Config{
			Listen: "127.0.0.1:0", GeoIPPath: path, StateDir: dir,
			DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		ended <- err
	}()
	dnsgslb.AwaitFirstGeoIPReadHeld(t) // the start waits for the database
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("NewContext ended with %v, want %v", err, context.Canceled)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("NewContext still runs 10 s after its context ended")
	}
	if _, err := os.Stat(filepath.Join(dir, "gslb-snapshot.pb")); err != nil {
		t.Errorf("the persisted snapshot after a start cut short: %v", err)
	}
	// The read the start waited for ends with it rather than read a
	// database nothing will use.
	release()
	awaitReadStopped(t, read, "a start cut short")
}

// awaitReadStopped waits, up to 10 s, for the first GeoIP read of what
// to end, and checks that it was stopped, not read to its end.
func awaitReadStopped(t *testing.T, read <-chan error, what string) {
	t.Helper()
	select {
	case err := <-read:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the first GeoIP read of %s ended with %v, want %v", what, err, context.Canceled)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the first GeoIP read of %s still runs 10 s after it was let go", what)
	}
}

// TestRunEndStopsFirstGeoIPRead: a server stopped before it read its GeoIP
// database stops the read, which would otherwise take seconds of CPU at
// City size for nothing: Run is called once.
func TestRunEndStopsFirstGeoIPRead(t *testing.T) {
	release := dnsgslb.HoldFirstGeoIPRead(t)
	read := dnsgslb.FirstGeoIPReadEnds(t)
	s, err := dnsgslb.New(dnsgslb.Config{
		Listen: "127.0.0.1:0", GeoIPPath: geoDB(t),
		DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	dnsgslb.AwaitFirstGeoIPReadHeld(t)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	<-s.Ready()
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	release()
	awaitReadStopped(t, read, "a server stopped")
}

// TestUnopenableGeoIPFileAfterRunWithout: a server that ran without a
// GeoIP database, restarted with one whose file cannot be opened (a
// mistyped --geoip, a file not downloaded yet), refuses to start, as
// without a persisted table: the table persisted places every client at
// the default location, no placement of a database to keep.
func TestUnopenableGeoIPFileAfterRunWithout(t *testing.T) {
	dir := t.TempDir()
	cfg := dnsgslb.Config{
		Listen: "127.0.0.1:0", StateDir: dir,
		DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	s, err := dnsgslb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	awaitFullIndex(t, s)
	for _, tt := range []struct {
		name string
		file func(path string) error
	}{
		{"missing", func(string) error { return nil }},
		{"not a database", func(path string) error { return os.WriteFile(path, []byte("not a database\n"), 0o644) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfg
			cfg.GeoIPPath = filepath.Join(t.TempDir(), "city.mmdb")
			if err := tt.file(cfg.GeoIPPath); err != nil {
				t.Fatal(err)
			}
			if _, err := dnsgslb.New(cfg); err == nil || !strings.Contains(err.Error(), "GeoIPPath") {
				t.Errorf("New with a GeoIP file that cannot be opened, after a run without one: %v, want the GeoIPPath refused", err)
			}
		})
	}
}

// TestRestartWithGeoIPAfterRunWithout: a server that ran without a GeoIP
// database, restarted with one, answers at once as before (every client
// at the default location) until the file is read, then as it says; the
// log says which placement is served meanwhile, not that of a database
// read before.
func TestRestartWithGeoIPAfterRunWithout(t *testing.T) {
	dir := t.TempDir()
	var logs logBuffer
	cfg := dnsgslb.Config{
		Listen: "127.0.0.1:0", StateDir: dir,
		DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	s, err := dnsgslb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	awaitFullIndex(t, s)

	release := dnsgslb.HoldFirstGeoIPRead(t)
	cfg.GeoIPPath, cfg.Logger = geoDB(t), slog.New(slog.NewTextHandler(&logs, nil))
	if s, err = dnsgslb.New(cfg); err != nil {
		t.Fatal(err)
	}
	ts := run(t, s)
	q := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	before := []string{a("nearest", gslbtest.USEast4)}
	if r := ts.exchange(t, "udp", q); r.Rcode != dns.RcodeSuccess || !equal(rrs(r.Answer), before) {
		t.Fatalf("before the file is read: rcode %s, answer %q; want %q, at the default location", dns.RcodeToString[r.Rcode], rrs(r.Answer), before)
	}
	if l := logs.String(); strings.Contains(l, "read before") || !strings.Contains(l, "default location") {
		t.Errorf("the log says clients are placed by a database read before, or not that they are at the default location:\n%s", l)
	}
	release()
	after := []string{a("nearest", gslbtest.EUWest4)}
	await(t, "placed by the file", func() bool {
		r := ts.exchange(t, "udp", q)
		return r.Rcode == dns.RcodeSuccess && equal(rrs(r.Answer), after)
	})
	awaitTableOf(t, dir, cfg.GeoIPPath)
}

// TestUnopenableGeoIPFileWithTableOfOtherPlacement: a restart whose GeoIP
// file cannot be opened refuses to start, as without a persisted table,
// when the persisted table does not place the persisted snapshot (the
// default location changed, or the PoPs' networks did and the table was
// not written): started, it would answer SERVFAIL to every GSLB name.
func TestUnopenableGeoIPFileWithTableOfOtherPlacement(t *testing.T) {
	path, dir := geoDB(t), t.TempDir()
	newServerWith(t, dnsgslb.Config{GeoIPPath: path, StateDir: dir}, gslbtest.Snapshot())
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	elsewhere := defaultLocation
	elsewhere.Latitude, elsewhere.Longitude = 35.68, 139.69
	s, err := dnsgslb.New(dnsgslb.Config{
		Listen: "127.0.0.1:0", GeoIPPath: path, StateDir: dir,
		DefaultLocation: elsewhere, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err == nil {
		ts := run(t, s)
		r := ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London))
		t.Fatalf("New with a GeoIP file that cannot be opened and a table of another default location started, answering %s", dns.RcodeToString[r.Rcode])
	}
	if !strings.Contains(err.Error(), "GeoIPPath") {
		t.Errorf("New: %v, want the GeoIPPath refused", err)
	}
}
