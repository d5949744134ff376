// Package daemon runs a DNS server as `anyctl dns` and `anyctl dev` do: a
// dnsgslb.Server answering queries, the feed that keeps it current from a
// controller, and its metrics listener, started in that order and stopped
// together when Run's context ends.
package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	"github.com/anyctl/anyctl/endpoint"
	"github.com/anyctl/anyctl/metricshttp"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Config configures the server, its feed and its metrics.
type Config struct {
	Server dnsgslb.Config
	Feed   feed.Config
	// MetricsListen is the Prometheus metrics address, host:port or
	// unix:PATH; empty serves none.
	MetricsListen string
}

// Daemon is one DNS server with its feed and metrics.
type Daemon struct {
	cfg   Config
	srv   *dnsgslb.Server
	ready chan struct{}
	// feedConnected is 1 while the GSLB feed stream is up: while it is 0
	// the server answers from the last snapshot it holds.
	feedConnected prometheus.Gauge
	// feedConfirmed is the time, on this host's clock, as of which the
	// feed's replica last confirmed its state current, in Unix
	// nanoseconds; 0 before the first confirmation and while the
	// replica does not confirm (an older controller).
	feedConfirmed atomic.Int64

	mu          sync.Mutex // guards metricsAddr
	metricsAddr net.Addr
}

// New is NewContext with a context that never ends.
func New(cfg Config) (*Daemon, error) { return NewContext(context.Background(), cfg) }

// NewContext opens the server (its GeoIP database and persisted snapshot)
// and returns a daemon ready to Run. An error is one of the configuration,
// or ctx's when it ends first.
func NewContext(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.Server.Logger == nil {
		cfg.Server.Logger = slog.Default()
	}
	srv, err := dnsgslb.NewContext(ctx, cfg.Server)
	if err != nil {
		return nil, err
	}
	return &Daemon{cfg: cfg, srv: srv, ready: make(chan struct{}), feedConnected: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "anyctl_dns_feed_connected",
		Help: "1 while the controller's GSLB feed stream is up; 0 while the server answers from the last snapshot it holds.",
	})}, nil
}

// Server is the DNS server the daemon runs.
func (d *Daemon) Server() *dnsgslb.Server { return d.srv }

// Ready is closed once the server listens and the feed has started.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// MetricsAddr is the bound metrics address, nil when metrics are off;
// valid after Ready.
func (d *Daemon) MetricsAddr() net.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.metricsAddr
}

// Revision is the revision of the snapshot the server answers from, 0
// before it has one.
func (d *Daemon) Revision() int64 {
	if ix := d.srv.Index(); ix != nil {
		return ix.Revision()
	}
	return 0
}

// Digest is the content digest of the snapshot the server answers from
// (GslbSnapshot.digest), nil before it has one or when its controller
// stated none. It is nil too while that snapshot is not persisted: the
// controller then sends it whole, and writing it is tried again.
func (d *Daemon) Digest() []byte {
	if ix := d.srv.Index(); ix != nil && d.srv.Persisted() {
		return ix.Digest()
	}
	return nil
}

// Run serves metrics and DNS, then follows the controller's GSLB feed,
// until ctx is cancelled; then it returns nil. It returns early with an
// error when a listener cannot be bound or the feed's configuration is
// unusable. Run may be called once.
func (d *Daemon) Run(ctx context.Context) error {
	log := d.cfg.Server.Logger
	if ix := d.srv.Index(); ix != nil {
		log.Info("dns answering from the persisted snapshot until the controller sends one", "revision", ix.Revision(), "state_dir", d.cfg.Server.StateDir)
	}
	if d.cfg.Server.GeoIPPath == "" {
		log.Info("dns has no GeoIP database: clients outside PoP cache networks are placed at the default location", "default_location", d.cfg.Server.DefaultLocation)
	}
	if d.cfg.MetricsListen != "" {
		ms, err := metricshttp.Listen(d.cfg.MetricsListen, d.metrics())
		if err != nil {
			return fmt.Errorf("--metrics-listen %q: %w", d.cfg.MetricsListen, err)
		}
		d.mu.Lock()
		d.metricsAddr = ms.Addr()
		d.mu.Unlock()
		go func() {
			if err := ms.Serve(); err != nil {
				log.Error("dns metrics no longer served", "addr", endpoint.String(ms.Addr()), "err", err)
			}
		}()
		defer ms.Close()
		log.Info("dns metrics serving", "addr", endpoint.String(ms.Addr()))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d.cfg.Feed.TLS != nil {
		go d.cfg.Feed.TLS.Watch(ctx)
	}
	served := make(chan error, 1)
	go func() { served <- d.srv.Run(ctx) }()
	select {
	case err := <-served:
		return err
	case <-d.srv.Ready():
	}
	fed := make(chan error, 1)
	fc := d.cfg.Feed
	fc.PersistedRefusal = d.srv.PersistedRefusal()
	fc.Digest = d.Digest
	fc.KeySets = func() []*v1.DnssecKeySet { return keySetsProto(d.srv.KeySets()) }
	fc.Resubscribe = d.srv.KeySetsChanged()
	fc.Connected = func(up bool) {
		v := 0.0
		if up {
			v = 1
		}
		d.feedConnected.Set(v)
	}
	fc.Confirmed = func(at time.Time) {
		var ns int64
		if !at.IsZero() {
			ns = at.UnixNano()
		}
		d.feedConfirmed.Store(ns)
	}
	go func() { fed <- feed.Run(ctx, fc, d.srv.UpdateContext, d.Revision) }()
	close(d.ready)
	var feedErr error
	select {
	case <-ctx.Done():
		feedErr = <-fed
	case feedErr = <-fed:
		cancel()
	}
	if err := <-served; err != nil {
		return err
	}
	return feedErr
}

// metrics are the server's metrics with the Go runtime's and the
// process's.
func (d *Daemon) metrics() prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.feedConnected, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "anyctl_dns_feed_confirmed_age_seconds",
		Help: "How long ago the controller replica the GSLB feed streams from last confirmed that its state is current (it checks its view against etcd every --feed-confirm-every); the server moves to another replica after --feed-stale-after. NaN before the first confirmation and while the replica does not confirm (a controller from before confirmations).",
	}, d.feedConfirmedAge), d.srv.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if d.cfg.Feed.TLS != nil {
		reg.MustRegister(authn.Collector(d.cfg.Feed.TLS))
	}
	return reg
}

// keySetsProto is the DNSKEY RRsets the server answers, as the feed
// reports them.
func keySetsProto(sets []dnsgslb.KeySet) []*v1.DnssecKeySet {
	var out []*v1.DnssecKeySet
	for _, s := range sets {
		p := &v1.DnssecKeySet{Zone: s.Zone, Digest: s.Digest}
		for _, k := range s.Keys {
			p.Keys = append(p.Keys, &v1.DnssecKeyId{KeyTag: uint32(k.Tag), Algorithm: uint32(k.Algorithm), Flags: uint32(k.Flags), Signing: k.Signing})
		}
		out = append(out, p)
	}
	return out
}

// feedConfirmedAge is anyctl_dns_feed_confirmed_age_seconds.
func (d *Daemon) feedConfirmedAge() float64 {
	ns := d.feedConfirmed.Load()
	if ns == 0 {
		return math.NaN()
	}
	return time.Since(time.Unix(0, ns)).Seconds()
}
