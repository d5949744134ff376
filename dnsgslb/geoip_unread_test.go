package dnsgslb_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// damageTree overwrites the start of the GeoIP database's search tree,
// keeping its size, modification time and metadata: the file is named as
// before (geo.Identify) but its networks can no longer be read.
func damageTree(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 64), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// TestGeoIPReloadServesSnapshotWaitingForIt: a snapshot that could not be
// compiled only because the GeoIP database could not be read (the
// controller's, or the one persisted when its prefix table is not) is
// served once a reload reads a good database, without waiting for the
// controller to change something.
func TestGeoIPReloadServesSnapshotWaitingForIt(t *testing.T) {
	for _, tt := range []struct {
		name      string
		persisted bool
	}{
		{"from the controller", false},
		{"persisted", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, dir := geoDB(t), t.TempDir()
			cfg := dnsgslb.Config{
				Listen: "127.0.0.1:0", GeoIPPath: path, StateDir: dir,
				DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			if tt.persisted {
				newServerWith(t, dnsgslb.Config{GeoIPPath: path, StateDir: dir}, gslbtest.Snapshot())
				if err := os.Remove(filepath.Join(dir, "gslb-table.bin")); err != nil {
					t.Fatal(err)
				}
			}
			damageTree(t, path)
			s, err := dnsgslb.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.persisted {
				if err := s.Update(gslbtest.Snapshot()); err == nil {
					t.Fatal("a snapshot compiled without a GeoIP database to read")
				}
			}
			ts := run(t, s)
			q := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
			if r := ts.exchange(t, "udp", q); r.Rcode != dns.RcodeServerFailure {
				t.Fatalf("before the reload: rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
			}
			// The read at start that failed counts, for the alert on it.
			m := gather(t, ts.Server)
			if m["anyctl_dns_geoip_reload_failing{}"] != 1 || m["anyctl_dns_geoip_reload_failures_total{}"] != 1 {
				t.Errorf("before the reload: reload_failing %v, reload_failures_total %v; want 1 and 1",
					m["anyctl_dns_geoip_reload_failing{}"], m["anyctl_dns_geoip_reload_failures_total{}"])
			}

			replaceFile(t, path, geotest.Networks)
			if err := ts.ReloadGeoIP(context.Background()); err != nil {
				t.Fatalf("ReloadGeoIP: %v", err)
			}
			want := []string{a("nearest", gslbtest.EUWest4)}
			if r := ts.exchange(t, "udp", q); r.Rcode != dns.RcodeSuccess || !equal(rrs(r.Answer), want) {
				t.Errorf("after the reload: rcode %s, answer %q; want %q", dns.RcodeToString[r.Rcode], rrs(r.Answer), want)
			}
			if got := refusedGauge(t, ts.Server); got != 0 {
				t.Errorf("after the reload: anyctl_dns_persisted_snapshot_refused = %v, want 0", got)
			}
			if got := gather(t, ts.Server)["anyctl_dns_geoip_reload_failing{}"]; got != 0 {
				t.Errorf("after the reload: reload_failing %v, want 0", got)
			}
		})
	}
}
