package dnsgslb_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestPersistedTableRewrittenInPlace: a server that started from the
// prefix table in its state directory keeps answering as before when a
// tool cuts that file short or writes another table into it in place
// (cp over it, a restore from a backup): it neither dies of the pages
// gone (SIGBUS) nor answers from the other table.
func TestPersistedTableRewrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	cfg := dnsgslb.Config{StateDir: dir, GeoIPPath: geoDB(t)}
	newServerWith(t, cfg, gslbtest.Snapshot())
	path := filepath.Join(dir, "gslb-table.bin")

	// Another server's table, with London in Tokyo.
	otherDir := t.TempDir()
	otherDB := filepath.Join(t.TempDir(), "city.mmdb")
	replaceFile(t, otherDB, londonInTokyo())
	newServerWith(t, dnsgslb.Config{StateDir: otherDir, GeoIPPath: otherDB}, gslbtest.Snapshot())
	other, err := os.ReadFile(filepath.Join(otherDir, "gslb-table.bin"))
	if err != nil {
		t.Fatal(err)
	}

	ts := run(t, newServerWith(t, cfg, nil))
	q := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	want := []string{a("nearest", gslbtest.EUWest4)}
	if got := rrs(ts.exchange(t, "udp", q).Answer); !equal(got, want) {
		t.Fatalf("before: London gets %q, want %q", got, want)
	}

	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, step := range []struct {
		what  string
		write func() error
	}{
		{"cut short", func() error { return f.Truncate(0) }},
		{"another table written in", func() error {
			if _, err := f.WriteAt(other, 0); err != nil {
				return err
			}
			return f.Truncate(int64(len(other)))
		}},
	} {
		if err := step.write(); err != nil {
			t.Fatal(err)
		}
		for _, network := range []string{"udp", "tcp"} {
			if got := rrs(ts.exchange(t, network, q).Answer); !equal(got, want) {
				t.Errorf("table file %s: London over %s gets %q, want %q", step.what, network, got, want)
			}
		}
	}
}

// TestPopNetworkChangeAfterRestart: after a restart from the persisted
// prefix table, a PoP's IPv4 cache network added is patched into that
// table; once the indexes served from the table read are replaced and
// collected, IPv6 clients (whose family the patch shares with the table
// read) are still answered.
func TestPopNetworkChangeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := dnsgslb.Config{StateDir: dir, GeoIPPath: geoDB(t)}
	newServerWith(t, cfg, gslbtest.Snapshot())
	ts := run(t, newServerWith(t, cfg, nil))
	q := msg(t, "nearest.gslb.example.com.", dns.TypeA, "2001:db8:2::/48") // London
	want := []string{a("nearest", gslbtest.EUWest4)}
	if got := rrs(ts.exchange(t, "udp", q).Answer); !equal(got, want) {
		t.Fatalf("before: London over IPv6 gets %q, want %q", got, want)
	}
	snap := gslbtest.Snapshot()
	snap.Revision++
	snap.Pops[0].CacheNetworks = append(snap.Pops[0].CacheNetworks, "198.19.0.0/24")
	if err := ts.Update(snap); err != nil {
		t.Fatal(err)
	}
	awaitFullIndex(t, ts.Server)
	for range 20 {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if got := rrs(ts.exchange(t, "udp", q).Answer); !equal(got, want) {
		t.Errorf("after the change: London over IPv6 gets %q, want %q", got, want)
	}
}
