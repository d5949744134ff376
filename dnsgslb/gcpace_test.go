package dnsgslb_test

import (
	"context"
	"os"
	"runtime/debug"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestGeoIPReloadRestoresGCPercent: a GeoIP reload runs the collector
// tighter while it builds, then gives GOGC back as it was, whether the
// reload took or was refused; a GOGC set lower stays.
func TestGeoIPReloadRestoresGCPercent(t *testing.T) {
	path := geoDB(t)
	s := newServerWith(t, dnsgslb.Config{GeoIPPath: path}, gslbtest.Snapshot())
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tt := range []struct {
		name  string
		gogc  int
		write func()
	}{
		{"reloaded", 100, func() { replaceFile(t, path, geotest.Networks[1:]) }},
		{"refused", 100, func() { os.WriteFile(path, []byte("not a database"), 0o644) }},
		{"lower already", 5, func() { replaceFile(t, path, geotest.Networks) }},
	} {
		debug.SetGCPercent(tt.gogc)
		tt.write()
		err := s.ReloadGeoIP(context.Background())
		if (err != nil) != (tt.name == "refused") {
			t.Errorf("%s: ReloadGeoIP: %v", tt.name, err)
		}
		if got := debug.SetGCPercent(100); got != tt.gogc {
			t.Errorf("%s: GOGC %d after the reload, want %d", tt.name, got, tt.gogc)
		}
	}
}
