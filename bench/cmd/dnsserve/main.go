// Command dnsserve serves a GSLB snapshot from a file with the dnsgslb
// server, for benchmarks, until it is interrupted. The real daemon is
// `anyctl dns`; this stands in for it without a controller.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5300", "UDP and TCP address to serve")
	snapPath := flag.String("snapshot", "", "GSLB snapshot, binary protobuf (required)")
	geoip := flag.String("geoip", "", "MaxMind City or Country database")
	workers := flag.Int("workers", 0, "UDP sockets, each with its own reader (0: one per processor, as anyctl dns)")
	udpMode := flag.String("udp-mode", "auto", "auto (the default of anyctl dns), blocking or netpoller")
	coalesce := flag.Duration("udp-coalesce", dnsgslb.DefaultUDPCoalesce, "how long a busy blocking worker waits between batches, as anyctl dns --udp-coalesce (0: never)")
	lat := flag.Float64("default-lat", 39, "latitude of clients nothing locates")
	lon := flag.Float64("default-lon", -77, "longitude of clients nothing locates")
	identity := flag.String("identity", "", "NSID and CHAOS id.server. answer (empty: none)")
	noCookies := flag.Bool("no-cookies", false, "ignore DNS cookies")
	rrlRate := flag.Int("rrl-rate", dnsgslb.DefaultRRL().ResponsesPerSecond, "response rate limit per network and name (0: off); loopback is exempt, but counted, as in anyctl dns")
	tapOut := flag.String("dnstap", "", "dnstap output: unix:PATH, tcp:HOST:PORT or a file (empty: off)")
	tapSample := flag.Int("dnstap-sample", 1, "log one query in N")
	keyDir := flag.String("dnssec-keys", "", "DNSSEC key directory, as anyctl dns --dnssec-keys: zones with keys there are signed (empty: none)")
	flag.Parse()
	rrl := dnsgslb.DefaultRRL()
	rrl.ResponsesPerSecond = *rrlRate
	opts := options{rrl: rrl, tap: dnsgslb.DnstapConfig{Output: *tapOut, Sample: *tapSample}}
	mode, err := dnsgslb.ParseUDPMode(*udpMode)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnsserve: -udp-mode:", err)
		os.Exit(2)
	}
	if *coalesce == 0 {
		*coalesce = -1 // never
	}
	cfg := dnsgslb.Config{Listen: *listen, GeoIPPath: *geoip, DefaultLocation: dnsgslb.Location{Latitude: *lat, Longitude: *lon},
		UDPWorkers: *workers, UDPMode: mode, UDPCoalesce: *coalesce, Identity: *identity, NoCookies: *noCookies, RRL: &opts.rrl, Dnstap: opts.tap,
		DNSSECKeyDir: *keyDir}
	if err := run(cfg, *snapPath); err != nil {
		fmt.Fprintln(os.Stderr, "dnsserve:", err)
		os.Exit(1)
	}
}

// options are the server's optional features.
type options struct {
	rrl dnsgslb.RRLConfig
	tap dnsgslb.DnstapConfig
}

func run(cfg dnsgslb.Config, snapPath string) error {
	if snapPath == "" {
		return fmt.Errorf("-snapshot is required")
	}
	b, err := os.ReadFile(snapPath)
	if err != nil {
		return err
	}
	snap := &v1.GslbSnapshot{}
	if err := proto.Unmarshal(b, snap); err != nil {
		return fmt.Errorf("snapshot %q: %w", snapPath, err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := dnsgslb.New(cfg)
	if err != nil {
		return err
	}
	if err := s.Update(snap); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return s.Run(ctx)
}
