// Package devenv runs a whole deployment in one process for a newcomer's
// first minute: embedded etcd and a controller, a GeoDNS server fed by it,
// an in-process upstream router, and one agent per PoP of the example
// deployment, peering with that router. Local stand-ins answer the health
// checks, so everything comes up healthy without root.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	"github.com/anyctl/anyctl/endpoint"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
	"github.com/miekg/dns"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Config says where the environment listens and keeps its state.
type Config struct {
	// DataDir holds the controller's etcd, each agent's state and the DNS
	// server's snapshot; a second run reuses it.
	DataDir string
	// Listen is the controller's gRPC address.
	Listen string
	// MetricsListen is the controller's metrics address; empty disables.
	MetricsListen string
	// ConsoleListen is the controller's web console address; empty
	// disables it.
	ConsoleListen string
	// DNSListen is the DNS server's UDP and TCP address.
	DNSListen string
	// Logger receives every component's logs.
	Logger *slog.Logger
}

// Info is what a running environment tells its user.
type Info struct {
	Controller string
	Metrics    string
	// Console is the web console's URL, empty when it is off.
	Console string
	DNS     string
	Router  string
	DataDir string
	Pops    []string
	// FailDNS makes the DNS stand-in that every PoP's edge-dns check
	// probes answer SERVFAIL (true) or answer again (false): a service
	// failing everywhere, for demos and tests.
	FailDNS func(bool)
	// DS is the DS record of the example zone's key, and TrustAnchor a
	// file holding it in the trust-anchors form delv and BIND read.
	DS, TrustAnchor string
	// Routes counts the IPv4 and IPv6 prefixes the router holds: what the
	// "internet" would route to the PoPs.
	Routes func(context.Context) (v4, v6 int, err error)
}

// Run starts everything, calls ready once the example deployment is applied
// and every component runs, and stops everything when ctx ends.
func Run(ctx context.Context, cfg Config, ready func(Info)) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(ctx)
	// Everything stops in reverse: agents first (their sessions close
	// cleanly while the router is still there), then the router and the
	// stand-ins, then the DNS server and the controller.
	var wg, agents sync.WaitGroup
	var stops []func()
	defer func() {
		cancel()
		agents.Wait()
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		wg.Wait()
	}()
	errc := make(chan error, 8)
	goRun := func(name string, run func(context.Context) error) {
		wg.Go(func() {
			if err := run(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}

	ctrl, err := controller.New(controller.Config{
		Listen:          cfg.Listen,
		MetricsListen:   cfg.MetricsListen,
		ConsoleListen:   cfg.ConsoleListen,
		DataDir:         filepath.Join(cfg.DataDir, "controller"),
		AllowedPrefixes: validation.DefaultAllowedPrefixes(),
		DrainPeriod:     10 * time.Second,
		Logger:          log.With("component", "controller"),
	})
	if err != nil {
		return err
	}
	goRun("controller", ctrl.Run)
	select {
	case <-ctrl.Ready():
	case err := <-errc:
		return err
	case <-ctx.Done():
		return nil
	}
	ctlAddr := endpoint.String(ctrl.Addr())

	loopback := netip.MustParseAddr("127.0.0.1")
	rt, err := startRouter(ctx, loopback)
	if err != nil {
		return err
	}
	stops = append(stops, rt.Stop)
	si, err := startStandins()
	if err != nil {
		return err
	}
	stops = append(stops, si.stop)

	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		return fmt.Errorf("example deployment: %w", err)
	}
	objs, sources, err := localize(objs, localPlan{routerAddr: loopback, routerPort: int(rt.Port()), dnsTarget: si.dnsAddr, httpTarget: si.httpAddr})
	if err != nil {
		return err
	}
	if err := apply(ctx, ctlAddr, objs); err != nil {
		return err
	}

	keyDir := filepath.Join(cfg.DataDir, "dnssec")
	ds, anchor, err := exampleKeys(keyDir)
	if err != nil {
		return err
	}
	dnsd, err := daemon.NewContext(ctx, daemon.Config{
		Server: dnsgslb.Config{
			Listen:          cfg.DNSListen,
			StateDir:        filepath.Join(cfg.DataDir, "dns"),
			DNSSECKeyDir:    keyDir,
			DefaultLocation: dnsgslb.Location{Latitude: 50.1109, Longitude: 8.6821, Country: "DE", Continent: "EU", City: "Frankfurt"},
			Logger:          log.With("component", "dns"),
			Identity:        devIdentity(),
		},
		Feed: feed.Config{Controller: ctlAddr, ServerName: "dev", Logger: log.With("component", "dns-feed")},
	})
	if err != nil {
		return err
	}
	goRun("dns", dnsd.Run)

	var pops []string
	for pop := range sources {
		pops = append(pops, pop)
	}
	sort.Strings(pops)
	// GoBGP v3.37.0 servers share process-wide settings while starting:
	// start the agents' speakers one after another.
	for _, pop := range pops {
		if err := addNeighbor(ctx, rt, sources[pop], popASN(objs, pop)); err != nil {
			return fmt.Errorf("router neighbour for %s: %w", pop, err)
		}
		a, err := agent.New(agent.Config{
			Pop:           pop,
			Controller:    ctlAddr,
			StateDir:      filepath.Join(cfg.DataDir, "agents", pop),
			Origination:   agent.Origination{AllowedPrefixes: prefixStrings(validation.DefaultAllowedPrefixes())},
			ShutdownGrace: agent.Duration(time.Millisecond),
			Logger:        log.With("component", "agent"),
		})
		if err != nil {
			return err
		}
		agents.Go(func() { _ = a.Run(ctx) })
		select {
		case <-a.Ready():
		case <-ctx.Done():
			return nil
		}
	}

	select {
	case <-dnsd.Ready():
	case err := <-errc:
		return err
	case <-ctx.Done():
		return nil
	}
	udp, _ := dnsd.Server().Addr()
	info := Info{
		Controller:  ctlAddr,
		DNS:         udp.String(),
		Router:      net.JoinHostPort(loopback.String(), fmt.Sprint(rt.Port())),
		DataDir:     cfg.DataDir,
		Pops:        pops,
		Routes:      routeCounts(rt),
		Console:     ctrl.ConsoleURL(),
		FailDNS:     si.dnsFailing.Store,
		DS:          ds,
		TrustAnchor: anchor,
	}
	if m := ctrl.MetricsAddr(); m != nil {
		info.Metrics = m.String()
	}
	ready(info)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// apply applies the objects through the Admin API.
func apply(ctx context.Context, addr string, objs []*v1.Object) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := v1.NewAdminServiceClient(conn).Apply(actx, &v1.ApplyRequest{Objects: objs}); err != nil {
		return fmt.Errorf("applying the example deployment: %w", err)
	}
	return nil
}

func popASN(objs []*v1.Object, pop string) uint32 {
	for _, o := range objs {
		if p := o.GetPop(); p != nil && p.GetMetadata().GetName() == pop {
			return p.GetSpec().GetLocalAsn()
		}
	}
	return 0
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// exampleZone is the zone of the example deployment, signed in dev.
const exampleZone = "gslb.example.com."

// exampleKeys makes the example zone's signing key in dir unless it has
// one, and writes the trust anchor file beside it; it returns the DS
// record and the anchor file's path.
func exampleKeys(dir string) (ds, anchor string, err error) {
	keys, err := dnssec.LoadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	k := firstSEP(keys[exampleZone])
	if k == nil {
		if k, err = dnssec.Generate(dir, exampleZone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now()); err != nil {
			return "", "", err
		}
	}
	d := k.DS()
	anchor = filepath.Join(dir, "trust-anchor.conf")
	text := fmt.Sprintf("trust-anchors {\n\t%s static-ds %d %d %d \"%s\";\n};\n", exampleZone, d.KeyTag, d.Algorithm, d.DigestType, d.Digest)
	if err := os.WriteFile(anchor, []byte(text), 0o644); err != nil {
		return "", "", fmt.Errorf("trust anchor %q: %w", anchor, err)
	}
	return d.String(), anchor, nil
}

// firstSEP is the first of keys that signs the DNSKEY RRset, not revoked
// (a revoked key's DS matches no DNSKEY served).
func firstSEP(keys []*dnssec.Key) *dnssec.Key {
	now := time.Now()
	for _, k := range keys {
		if k.Role != dnssec.ZSK && !k.Revoked(now) {
			return k
		}
	}
	return nil
}

// devIdentity is the DNS server's NSID and CHAOS id.server. answer: the
// host name, as `anyctl dns` has by default.
func devIdentity() string {
	host, err := os.Hostname()
	if err != nil || len(host) > 128 {
		return "anyctl-dev"
	}
	return host
}
