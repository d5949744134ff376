package dnsgslb_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// restartWithNewFile persists the example snapshot with the test database
// at a new path, replaces the file with another version (London's /24 in
// Tokyo) and starts a server on the state with the first read of the new
// file held: it answers from the persisted table. It returns the server,
// not running, the state directory and the release of the read.
func restartWithNewFile(t *testing.T) (s *dnsgslb.Server, path, dir string, release func()) {
	t.Helper()
	path, dir = geoDB(t), t.TempDir()
	newServerWith(t, dnsgslb.Config{GeoIPPath: path, StateDir: dir}, gslbtest.Snapshot())
	replaceFile(t, path, londonInTokyo())
	release = dnsgslb.HoldFirstGeoIPRead(t)
	s, err := dnsgslb.New(dnsgslb.Config{
		Listen: "127.0.0.1:0", GeoIPPath: path, StateDir: dir,
		DefaultLocation: defaultLocation, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, path, dir, release
}

// awaitTableOf waits until the table persisted in dir is the one built
// from the database at path.
func awaitTableOf(t *testing.T, dir, path string) {
	t.Helper()
	want, err := geo.Identify(path)
	if err != nil {
		t.Fatal(err)
	}
	await(t, "the new file's table persisted", func() bool {
		tab, err := geo.ReadTableFile(filepath.Join(dir, "gslb-table.bin"))
		return err == nil && tab.DBID() == want
	})
}

// TestRefineAfterFirstReadKeepsAdoption: a refine that runs once the
// new file is read (the index it refines left scope tables for later)
// does not place clients by the new database in place of the start's
// adoption: the new file's table is persisted, so that the next start
// answers from it.
func TestRefineAfterFirstReadKeepsAdoption(t *testing.T) {
	s, path, dir, release := restartWithNewFile(t)
	dnsgslb.AwaitRefines(s)
	release()
	await(t, "the new file read", func() bool {
		_, ok := gather(t, s)["anyctl_dns_geoip_last_success_timestamp_seconds{}"]
		return ok
	})
	dnsgslb.RefineAgain(s)
	ts := run(t, s)
	q := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	after := []string{a("nearest", gslbtest.APNortheast4)}
	await(t, "placed by the new file", func() bool {
		r := ts.exchange(t, "udp", q)
		return r.Rcode == dns.RcodeSuccess && equal(rrs(r.Answer), after)
	})
	awaitTableOf(t, dir, path)
}
