package dnsgslb_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// logBuffer is a bytes.Buffer safe for the server's goroutines.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// londonInTokyo is the test database with London's /24 moved to Tokyo.
func londonInTokyo() []geotest.Network {
	nets := append([]geotest.Network(nil), geotest.Networks...)
	for i, n := range nets {
		if n.CIDR == gslbtest.London {
			nets[i] = geotest.Network{CIDR: n.CIDR, Country: "JP", Continent: "AS", City: "Tokyo", Latitude: 35.68, Longitude: 139.69}
		}
	}
	return nets
}

// replaceFile writes a database beside path and renames it over path, as
// geoipupdate does.
func replaceFile(t *testing.T, path string, nets []geotest.Network) {
	t.Helper()
	tmp := path + ".new"
	if err := geotest.Write(tmp, nets); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// await polls cond every 10 ms for up to 20 s.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 20 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGeoIPReload changes the GeoIP file under a running server: a new
// database is picked up without a restart and moves the answers; a
// damaged or truncated file, or one that is no database, keeps the old
// one, says why in the log and in the metrics; ReloadGeoIP (SIGHUP) reads
// a good file again at once.
func TestGeoIPReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	s, err := dnsgslb.New(dnsgslb.Config{
		Listen: "127.0.0.1:0", GeoIPPath: path, GeoIPReloadInterval: 20 * time.Millisecond, StateDir: t.TempDir(),
		DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	awaitFullIndex(t, s)
	ts := run(t, s)
	answer := func() string {
		got := rrs(ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)).Answer)
		return strings.Join(got, "|")
	}
	inLondon, inTokyo := a("nearest", gslbtest.EUWest4), a("nearest", gslbtest.APNortheast4)
	if got := answer(); got != inLondon {
		t.Fatalf("before: London gets %q, want %q", got, inLondon)
	}
	metric := func(name string) float64 { return gather(t, s)[name+"{}"] }

	replaceFile(t, path, londonInTokyo())
	// The answers change when the index is swapped in, the reload is
	// counted just after.
	await(t, "reloaded", func() bool { return metric("anyctl_dns_geoip_reloads_total") == 1 })
	if got := answer(); got != inTokyo {
		t.Fatalf("after the reload: London gets %q, want %q", got, inTokyo)
	}
	if !strings.Contains(logs.String(), "dns reloaded the GeoIP database") {
		t.Errorf("no reload in the log:\n%s", logs.String())
	}
	loaded := metric("anyctl_dns_geoip_last_success_timestamp_seconds")
	if loaded < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success at %v, want about now", loaded)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	for i, bad := range []struct {
		desc    string
		content []byte
		wantLog string
	}{
		{"no database", []byte("not a database\n"), "error opening database: invalid MaxMind DB file"},
		{"truncated", good[:len(good)/2], "invalid MaxMind DB file"},
		{"empty", nil, "open GeoIP database"},
		{"ASN database", asnDatabase(t), `GeoLite2-ASN\") places no network`}, // quoted in the log
	} {
		if err := os.WriteFile(path, bad.content, 0o644); err != nil {
			t.Fatal(err)
		}
		await(t, "refusing the "+bad.desc+" file", func() bool { return metric("anyctl_dns_geoip_reload_failures_total") == float64(i+1) })
		if got := answer(); got != inTokyo {
			t.Errorf("%s file: London gets %q, want %q from the database kept", bad.desc, got, inTokyo)
		}
		if metric("anyctl_dns_geoip_reload_failing") != 1 {
			t.Errorf("%s file: reload_failing is not 1", bad.desc)
		}
		if l := logs.String(); !strings.Contains(l, "dns keeps the GeoIP database it has") || !strings.Contains(l, path) || !strings.Contains(l, bad.wantLog) {
			t.Errorf("%s file: the log does not say why (want %q and the path):\n%s", bad.desc, bad.wantLog, l)
		}
	}
	if metric("anyctl_dns_geoip_last_success_timestamp_seconds") != loaded {
		t.Error("a refused file moved the last success time")
	}

	// An explicit reload (SIGHUP) of a bad file fails and says why; of a
	// good one, takes effect before it returns.
	if err := s.ReloadGeoIP(context.Background()); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReloadGeoIP of an empty file: %v, want an error naming %q", err, path)
	}
	if err := geotest.Write(path+".new", geotest.Networks); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	if err := s.ReloadGeoIP(context.Background()); err != nil {
		t.Fatalf("ReloadGeoIP: %v", err)
	}
	if got := answer(); got != inLondon {
		t.Errorf("after ReloadGeoIP: London gets %q, want %q", got, inLondon)
	}
	if metric("anyctl_dns_geoip_reload_failing") != 0 {
		t.Error("reload_failing still 1 after a reload took effect")
	}
}

// asnDatabase is an mmdb file shaped like GeoLite2-ASN: networks with an
// AS number and organisation, and no place.
func asnDatabase(t *testing.T) []byte {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, cidr := range []string{"198.18.0.0/16", "198.19.0.0/16", "2001:db8::/32"} {
		_, n, _ := net.ParseCIDR(cidr)
		rec := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64500 + i), "autonomous_system_organization": mmdbtype.String("Example Networks")}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := tree.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGeoIPReloadWithout: a server without a database has nothing to
// reload, and says so.
func TestGeoIPReloadWithout(t *testing.T) {
	s, err := dnsgslb.New(dnsgslb.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReloadGeoIP(context.Background()); err == nil || !strings.Contains(err.Error(), "no GeoIP database") {
		t.Errorf("ReloadGeoIP: %v, want no GeoIP database", err)
	}
}
