package dnsgslb_test

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestGeoIPReloadRestoresMemoryLimit: a GeoIP reload sets a soft memory
// limit while it builds, then gives the limit back as it was, whether the
// reload took or was refused; a lower limit set before (GOMEMLIMIT)
// stays.
func TestGeoIPReloadRestoresMemoryLimit(t *testing.T) {
	path := geoDB(t)
	s := newServerWith(t, dnsgslb.Config{GeoIPPath: path}, gslbtest.Snapshot())
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	for _, tt := range []struct {
		name  string
		limit int64
		write func()
	}{
		{"reloaded", math.MaxInt64, func() { replaceFile(t, path, geotest.Networks[1:]) }},
		{"refused", math.MaxInt64, func() { os.WriteFile(path, []byte("not a database"), 0o644) }},
		{"lower already", 64 << 20, func() { replaceFile(t, path, geotest.Networks) }},
	} {
		debug.SetMemoryLimit(tt.limit)
		tt.write()
		err := s.ReloadGeoIP(context.Background())
		if (err != nil) != (tt.name == "refused") {
			t.Errorf("%s: ReloadGeoIP: %v", tt.name, err)
		}
		if got := debug.SetMemoryLimit(-1); got != tt.limit {
			t.Errorf("%s: memory limit %d after the reload, want %d", tt.name, got, tt.limit)
		}
	}
}
