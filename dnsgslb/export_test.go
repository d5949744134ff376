package dnsgslb

import (
	"sync"
	"testing"
)

// HoldFirstGeoIPRead makes the first read of a GeoIP database wait until
// release is called or the test ends.
func HoldFirstGeoIPRead(t testing.TB) (release func()) {
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	geoIPFirstRead = func() { <-held }
	t.Cleanup(func() {
		release()
		geoIPFirstRead = func() {}
	})
	return release
}
