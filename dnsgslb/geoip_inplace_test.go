package dnsgslb_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestGeoIPRewrittenInPlace: a GeoIP file that a tool truncates and
// writes again in place while the server reads it (a reload, SIGHUP) is
// refused as changed while read; the server neither dies of the mapped
// pages gone (SIGBUS) nor serves a mix, and answers from the database it
// had.
func TestGeoIPRewrittenInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	// Big enough that a read takes a while: the rewrites land in it.
	if err := geotest.Write(path, append(geotest.Scattered(100_000, 2_000), geotest.Networks...)); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{GeoIPPath: path, StateDir: t.TempDir()}, gslbtest.Snapshot()))
	q := msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	want := []string{a("nearest", gslbtest.EUWest4)}
	if got := rrs(ts.exchange(t, "udp", q).Answer); !equal(got, want) {
		t.Fatalf("before: London gets %q, want %q", got, want)
	}

	// As a tool writing in place does: cut the file short, then write it
	// whole again, over and over.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for {
			select {
			case <-stop:
				f.Truncate(0)
				f.WriteAt(good, 0)
				return
			default:
			}
			f.Truncate(int64(len(good) / 8))
			time.Sleep(2 * time.Millisecond)
			f.WriteAt(good, 0)
			time.Sleep(time.Millisecond)
		}
	})
	refused := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		if err := ts.ReloadGeoIP(context.Background()); err != nil {
			refused++
		}
	}
	close(stop)
	wg.Wait()
	if refused == 0 {
		t.Error("no reload of a file rewritten as it was read was refused")
	}
	if got := rrs(ts.exchange(t, "udp", q).Answer); !equal(got, want) {
		t.Errorf("after the rewrites: London gets %q, want %q", got, want)
	}
	// Whole again, the file is read.
	if err := ts.ReloadGeoIP(context.Background()); err != nil {
		t.Errorf("ReloadGeoIP of the whole file: %v", err)
	}
}
