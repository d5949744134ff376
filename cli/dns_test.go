package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/feed"
)

func TestDNSOptions(t *testing.T) {
	geoip := filepath.Join(t.TempDir(), "city.mmdb")
	if err := os.WriteFile(geoip, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.mmdb")
	secrets := filepath.Join(t.TempDir(), "cookie-secret")
	if err := os.WriteFile(secrets, []byte(strings.Repeat("ab", 16)+"\n"+strings.Repeat("cd", 16)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badSecrets := filepath.Join(t.TempDir(), "bad-secret")
	if err := os.WriteFile(badSecrets, []byte("abcd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc    string
		args    []string
		check   func(t *testing.T, o daemon.Config)
		wantErr string
	}{
		{desc: "defaults", check: func(t *testing.T, o daemon.Config) {
			host, _ := os.Hostname()
			if o.Feed.Controller != DefaultServer || o.Feed.ServerName != host || o.Server.Listen != ":53" ||
				o.Server.StateDir != "/var/lib/anyctl/dns" || o.Server.UDPWorkers != 0 || o.Server.UDPMode != dnsgslb.UDPAuto ||
				o.Server.GeoIPPath != "" || o.Server.DefaultLocation != (dnsgslb.Location{}) || o.MetricsListen != DefaultDNSMetricsListen ||
				o.Server.Identity != host || o.Server.VersionBind != "" || o.Server.Cookies != nil || o.Server.NoCookies {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{desc: "identity, version, cookie secrets", args: []string{"--identity", "ns1.fra", "--version-bind", "anyctl", "--cookie-secret-file", secrets},
			check: func(t *testing.T, o daemon.Config) {
				if o.Server.Identity != "ns1.fra" || o.Server.VersionBind != "anyctl" || o.Server.Cookies == nil || o.Server.NoCookies {
					t.Errorf("options: %+v", o.Server)
				}
			}},
		{desc: "no identity, no cookies", args: []string{"--identity", "", "--cookies=false"},
			check: func(t *testing.T, o daemon.Config) {
				if o.Server.Identity != "" || !o.Server.NoCookies {
					t.Errorf("options: %+v", o.Server)
				}
			}},
		{desc: "identity too long", args: []string{"--identity", strings.Repeat("x", 129)},
			wantErr: `--identity "` + strings.Repeat("x", 129) + `": 129 bytes, want at most 128`},
		{desc: "bad cookie secret", args: []string{"--cookie-secret-file", badSecrets},
			wantErr: `--cookie-secret-file "` + badSecrets + `": line 1: want a secret of 32 hexadecimal digits (128 bits), e.g. from ` + "`openssl rand -hex 16`"},
		{desc: "missing cookie secret", args: []string{"--cookie-secret-file", missing},
			wantErr: `--cookie-secret-file "` + missing + `": open ` + missing + `: no such file or directory`},
		{desc: "cookie secret with cookies off", args: []string{"--cookie-secret-file", secrets, "--cookies=false"},
			wantErr: `--cookie-secret-file "` + secrets + `" with --cookies=false: drop one`},
		{desc: "every flag", args: []string{"--controller", "unix:/run/anyctl.sock", "--listen", "[::]:5353", "--geoip", geoip,
			"--state-dir", "/tmp/dns", "--metrics-listen", "", "--default-location", "39.04,-77.49,us,na",
			"--udp-workers", "2", "--udp-mode", "netpoller", "--name", "dns-1"},
			check: func(t *testing.T, o daemon.Config) {
				want := dnsgslb.Location{Latitude: 39.04, Longitude: -77.49, Country: "US", Continent: "NA"}
				if o.Feed.Controller != "unix:/run/anyctl.sock" || o.Feed.ServerName != "dns-1" || o.Server.Listen != "[::]:5353" ||
					o.Server.GeoIPPath != geoip || o.Server.StateDir != "/tmp/dns" || o.MetricsListen != "" ||
					o.Server.DefaultLocation != want || o.Server.UDPWorkers != 2 || o.Server.UDPMode != dnsgslb.UDPNetpoller {
					t.Errorf("options: %+v", o)
				}
				if o.Server.Logger == nil || o.Feed.Logger != o.Server.Logger {
					t.Error("the server and the feed do not share the logger")
				}
			}},
		{desc: "several controllers", args: []string{"--controller", "10.0.0.1:7400,ctl.example:7400"},
			check: func(t *testing.T, o daemon.Config) {
				if o.Feed.Controller != "10.0.0.1:7400,ctl.example:7400" {
					t.Errorf("feed controller %q", o.Feed.Controller)
				}
			}},
		{desc: "bad controller in a list", args: []string{"--controller", "10.0.0.1:7400,ctl.example"},
			wantErr: `--controller "10.0.0.1:7400,ctl.example": controller address "ctl.example": want host:port or unix:PATH: address ctl.example: missing port in address`},
		{desc: "bad controller", args: []string{"--controller", "controller.example"},
			wantErr: `--controller "controller.example": want host:port or unix:PATH: address controller.example: missing port in address`},
		{desc: "bad listen", args: []string{"--listen", "53"},
			wantErr: `--listen "53": want host:port, e.g. "[::]:53": address 53: missing port in address`},
		{desc: "bad metrics listen", args: []string{"--metrics-listen", "7403"},
			wantErr: `--metrics-listen "7403": want host:port or unix:PATH: address 7403: missing port in address`},
		{desc: "negative UDP workers", args: []string{"--udp-workers", "-1"}, wantErr: `--udp-workers -1: want 0 (one per processor) or more`},
		{desc: "TCP defaults", check: func(t *testing.T, o daemon.Config) {
			if want := (dnsgslb.TCPConfig{MaxConnections: 1024, MaxPerClient: 64, IdleTimeout: 10 * time.Second}); o.Server.TCP != want {
				t.Errorf("TCP %+v, want %+v", o.Server.TCP, want)
			}
		}},
		{desc: "TCP limits", args: []string{"--tcp-max-connections", "4096", "--tcp-max-per-client", "0", "--tcp-idle-timeout", "30s"},
			check: func(t *testing.T, o daemon.Config) {
				if want := (dnsgslb.TCPConfig{MaxConnections: 4096, MaxPerClient: -1, IdleTimeout: 30 * time.Second}); o.Server.TCP != want {
					t.Errorf("TCP %+v, want %+v", o.Server.TCP, want)
				}
			}},
		{desc: "no TCP connections", args: []string{"--tcp-max-connections", "0"}, wantErr: `--tcp-max-connections 0: want 1 to 1048576`},
		{desc: "negative TCP per client", args: []string{"--tcp-max-per-client", "-2"}, wantErr: `--tcp-max-per-client -2: want 1 or more (0: no limit)`},
		{desc: "TCP idle timeout too long", args: []string{"--tcp-idle-timeout", "2h"}, wantErr: `--tcp-idle-timeout 2h0m0s: want 100ms to 1h`},
		{desc: "bad UDP mode", args: []string{"--udp-mode", "fast"}, wantErr: `--udp-mode: UDP mode "fast": want auto, blocking or netpoller`},
		{desc: "UDP coalescing by default", check: func(t *testing.T, o daemon.Config) {
			if o.Server.UDPCoalesce != 50*time.Microsecond {
				t.Errorf("UDPCoalesce %v, want 50µs", o.Server.UDPCoalesce)
			}
		}},
		{desc: "UDP coalescing off", args: []string{"--udp-coalesce", "0"}, check: func(t *testing.T, o daemon.Config) {
			if o.Server.UDPCoalesce >= 0 {
				t.Errorf("UDPCoalesce %v, want negative (never)", o.Server.UDPCoalesce)
			}
		}},
		{desc: "UDP coalescing too long", args: []string{"--udp-coalesce", "2ms"}, wantErr: `--udp-coalesce 2ms: want 0 (never) to 1ms`},
		{desc: "negative UDP coalescing", args: []string{"--udp-coalesce", "-5us"}, wantErr: `--udp-coalesce -5µs: want 0 (never) to 1ms`},
		{desc: "missing GeoIP database", args: []string{"--geoip", missing},
			wantErr: `--geoip "` + missing + `": stat ` + missing + `: no such file or directory`},
		{desc: "bad default location", args: []string{"--default-location", "39.04"},
			wantErr: `--default-location "39.04": want LAT,LON[,COUNTRY[,CONTINENT]], e.g. "39.04,-77.49,US,NA"`},
		{desc: "bad log level", args: []string{"--log-level", "loud"}, wantErr: `--log-level "loud": want debug, info, warn or error`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			o, err := dnsOptions(t, tc.args...)
			if tc.wantErr != "" {
				checkErr(t, err, tc.wantErr, true)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in      string
		want    dnsgslb.Location
		wantErr string
	}{
		{in: "", want: dnsgslb.Location{}},
		{in: "50.11,8.68", want: dnsgslb.Location{Latitude: 50.11, Longitude: 8.68}},
		{in: " 50.11 , 8.68 , de ", want: dnsgslb.Location{Latitude: 50.11, Longitude: 8.68, Country: "DE"}},
		{in: "-33.87,151.21,AU,OC", want: dnsgslb.Location{Latitude: -33.87, Longitude: 151.21, Country: "AU", Continent: "OC"}},
		{in: "91,0", wantErr: `--loc "91,0": latitude "91": want a number from -90 to 90`},
		{in: "north,0", wantErr: `--loc "north,0": latitude "north": want a number from -90 to 90`},
		{in: "0,181", wantErr: `--loc "0,181": longitude "181": want a number from -180 to 180`},
		{in: "NaN,0", wantErr: `--loc "NaN,0": latitude "NaN": want a number from -90 to 90`},
		{in: "0,nan", wantErr: `--loc "0,nan": longitude "nan": want a number from -180 to 180`},
		{in: "0,0,USA", wantErr: `--loc "0,0,USA": country "USA": want an ISO 3166-1 alpha-2 code such as "US"`},
		{in: "0,0,U1", wantErr: `--loc "0,0,U1": country "U1": want an ISO 3166-1 alpha-2 code such as "US"`},
		{in: "0,0,US,XX", wantErr: `--loc "0,0,US,XX": continent "XX": want one of AF AN AS EU NA OC SA`},
		{in: "0,0,US,NA,x", wantErr: `--loc "0,0,US,NA,x": want LAT,LON[,COUNTRY[,CONTINENT]], e.g. "39.04,-77.49,US,NA"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseLocation("loc", tc.in)
			if tc.wantErr != "" {
				checkErr(t, err, tc.wantErr, true)
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseLocation(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestRunDNSFailsToStart: a GeoIP file that is no database is a usage
// error; an address already in use is a plain one. Neither waits for ctx.
func TestRunDNSFailsToStart(t *testing.T) {
	notDB := filepath.Join(t.TempDir(), "city.mmdb")
	if err := os.WriteFile(notDB, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		desc      string
		cfg       dnsgslb.Config
		wantUsage bool
		wantErr   string
	}{
		{desc: "not a GeoIP database", cfg: dnsgslb.Config{Listen: "127.0.0.1:0", GeoIPPath: notDB, Logger: log},
			wantUsage: true, wantErr: "GeoIPPath: open GeoIP database"},
		{desc: "address in use", cfg: dnsgslb.Config{Listen: busy.LocalAddr().String(), Logger: log},
			wantErr: "address already in use"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			d, err := newDNS(context.Background(), daemon.Config{Server: tc.cfg, Feed: feed.Config{Controller: DefaultServer, Logger: log}})
			if err == nil {
				err = d.Run(context.Background())
				select {
				case <-d.Ready():
					t.Error("Ready closed, although the daemon failed to start")
				default:
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("anyctl dns: %v, want an error containing %q", err, tc.wantErr)
			}
			if isUsage := errors.As(err, new(usageError)); isUsage != tc.wantUsage {
				t.Errorf("%v is a usage error: %v, want %v", err, isUsage, tc.wantUsage)
			}
		})
	}
}

// dnsOptions parses args with anyctl dns's own flags and returns the
// options they make, or the error naming the flag.
func dnsOptions(t *testing.T, args ...string) (daemon.Config, error) {
	t.Helper()
	var f dnsFlags
	fs := pflag.NewFlagSet("dns", pflag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.options(io.Discard)
}
