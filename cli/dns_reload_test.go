package cli

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

func TestDNSGeoIPReloadFlag(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    time.Duration
		wantErr string
	}{
		{args: nil, want: DefaultGeoIPReloadInterval},
		{args: []string{"--geoip-reload-interval", "0"}, want: 0},
		{args: []string{"--geoip-reload-interval", "5m"}, want: 5 * time.Minute},
		{args: []string{"--geoip-reload-interval", "1s"}, want: time.Second},
		{args: []string{"--geoip-reload-interval", "-1s"}, wantErr: "--geoip-reload-interval -1s: want 0 (only on SIGHUP) or 1s or more"},
		// A shorter interval would stat the file in a busy loop.
		{args: []string{"--geoip-reload-interval", "1ns"}, wantErr: "--geoip-reload-interval 1ns: want 0 (only on SIGHUP) or 1s or more"},
		{args: []string{"--geoip-reload-interval", "500ms"}, wantErr: "--geoip-reload-interval 500ms: want 0 (only on SIGHUP) or 1s or more"},
	} {
		o, err := dnsOptions(t, tc.args...)
		if tc.wantErr != "" {
			checkErr(t, err, tc.wantErr, true)
			continue
		}
		if err != nil || o.Server.GeoIPReloadInterval != tc.want {
			t.Errorf("%q: interval %v, %v; want %v", tc.args, o.Server.GeoIPReloadInterval, err, tc.want)
		}
	}
}

// TestHangupsCatchesEarlySignal: a SIGHUP sent while the server is still
// being made (hangups is called first) neither ends the process nor is
// lost: it waits on the channel that reloadOnHangup reads.
func TestHangupsCatchesEarlySignal(t *testing.T) {
	hup := hangups()
	defer signal.Stop(hup)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hup:
	case <-time.After(10 * time.Second):
		t.Fatal("a SIGHUP sent after hangups did not arrive on its channel")
	}
}
