// Package controller is the control plane's only reader and writer of etcd,
// which it reaches through its store package only. It serves the Admin API (validated, versioned writes of the desired
// state), the Agent API (each PoP's compiled config, and the status agents
// report) and the GSLB feed (the compiled snapshot for DNS servers).
package controller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/controller/etcdembed"
	"github.com/anyctl/anyctl/controller/store"
	"github.com/anyctl/anyctl/endpoint"
	"github.com/anyctl/anyctl/metricshttp"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// Controller is one controller replica.
type Controller struct {
	cfg   Config
	log   *slog.Logger
	ready chan struct{}
	// apiTLS holds the APIs' mutual TLS files, read again when they
	// change; nil serves plain text.
	apiTLS *authn.Reloader
	// etcdTLS holds the external etcd's client TLS files; nil without.
	etcdTLS *authn.Reloader

	mu          sync.Mutex // guards addr, metricsAddr and consoleURL
	addr        net.Addr
	metricsAddr net.Addr
	consoleURL  string
}

// New checks the config and returns a controller ready to Run.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	apiTLS, err := cfg.apiTLS(cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Controller{cfg: cfg, log: cfg.Logger, ready: make(chan struct{}), apiTLS: apiTLS}, nil
}

// Ready is closed when the controller serves its APIs with the stored state
// loaded.
func (c *Controller) Ready() <-chan struct{} { return c.ready }

// Addr is the gRPC listen address; valid after Ready.
func (c *Controller) Addr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// MetricsAddr is the metrics listen address, nil when disabled; valid after
// Ready.
func (c *Controller) MetricsAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metricsAddr
}

// ConsoleURL is the web console's URL, empty when disabled; valid after
// Ready.
func (c *Controller) ConsoleURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.consoleURL
}

// Run serves until ctx is cancelled, then stops gracefully and returns nil.
func (c *Controller) Run(ctx context.Context) error {
	st, etcdFailed, closeEtcd, err := c.connectEtcd(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped while etcd started: a stop, not a failure.
			c.log.Info("controller stopped while starting", "reason", err)
			return nil
		}
		return err
	}
	defer closeEtcd()

	cache := newStateCache(st)
	m := newMetrics(cache)
	obs := newObserver()

	lis, err := endpoint.Listen(c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", c.cfg.Listen, err)
	}
	lis = newLimitListener(lis, connLimits{
		max: c.cfg.MaxConnections, perIP: c.cfg.MaxConnectionsPerIP, local: c.cfg.LocalConnections, isLocal: inPrefixes(c.cfg.LocalAddrs),
		userTimeout: keepaliveTimeout,
	}, c.log, func(reason string) { m.connsRefused.WithLabelValues(reason).Inc() })
	var ms *metricshttp.Server
	if c.cfg.MetricsListen != "" {
		if ms, err = metricshttp.Listen(c.cfg.MetricsListen, m.reg); err != nil {
			lis.Close()
			return fmt.Errorf("--metrics-listen %q: %w", c.cfg.MetricsListen, err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gs := grpc.NewServer(append(c.serverOptions(m), newRequestCodec().serverOptions()...)...)
	sw := newStatusWatcher(st, obs, c.cfg.OriginDownQuorum)
	fleet := newFleetState(st, obs, m)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	lease := st.ReplicaLease(c.cfg.StatusTTL)
	defer lease.Close()
	eh := newEtcdHealth(st, c.cfg.EtcdLossGrace, lease.TTL(), lease.LastAck, c.log, func(reached bool) {
		if reached {
			hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		} else {
			hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		}
	})
	fresh := newFreshness(st, c.cfg.FeedConfirmEvery, c.log, sw.published, cache.mirror.Synced, sw.mirror.Synced, fleet.mirror.Synced)
	replica := &replicaState{etcd: eh, fresh: fresh}
	m.exportConfirmedAge(fresh.age)
	m.exportEtcdAnswers(eh)
	dns := &dnsServers{every: c.cfg.FeedConfirmEvery}
	admin := &adminServer{dns: dns, log: c.log, st: st, opts: validation.Options{AllowedPrefixes: c.cfg.AllowedPrefixes}, metrics: m, cache: cache, observed: obs, fleet: fleet, reports: sw, drainPeriod: c.cfg.DrainPeriod, replica: replica}
	v1.RegisterAdminServiceServer(gs, admin)
	m.reg.MustRegister(newFleetCollector(admin, c.apiTLS), authn.Collector(c.apiTLS, c.etcdTLS))
	if c.apiTLS != nil {
		go c.apiTLS.Watch(ctx)
	}
	cs, err := c.listenConsole(admin)
	if err != nil {
		lis.Close()
		if ms != nil {
			ms.Close()
		}
		return err
	}
	silence := newSilenceWatch(c.cfg.StatusTTL)
	rid := replicaID(endpoint.String(lis.Addr()))
	held := st.HeldRevisions(rid, lease, func(error) { m.reportWriteFailures.Inc() })
	v1.RegisterAgentServiceServer(gs, &agentServer{mtls: c.apiTLS != nil, configs: newPopConfigs(cache), observed: obs, st: st, lease: lease, statusTTL: c.cfg.StatusTTL, log: c.log, metrics: m, stop: ctx.Done(), replica: rid, etcd: eh, silence: silence, held: held, fresh: fresh})
	v1.RegisterGslbFeedServiceServer(gs, &feedServer{cache: cache, observed: obs, log: c.log, metrics: m, stop: ctx.Done(), etcd: eh, dns: dns, fresh: fresh})
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	var wg sync.WaitGroup
	errc := make(chan error, 4) // one slot per sender: etcd, gRPC, metrics and console
	if etcdFailed != nil {
		wg.Go(func() {
			select {
			case err := <-etcdFailed:
				if err == nil {
					err = errors.New("it stopped serving")
				}
				errc <- fmt.Errorf("embedded etcd in --data-dir %q failed: %w", c.cfg.DataDir, err)
			case <-ctx.Done():
			}
		})
	}
	wg.Go(func() { cache.run(ctx) })
	wg.Go(func() { trackObjectCounts(ctx, cache, m) })
	wg.Go(func() { sw.run(ctx) })
	wg.Go(func() { fleet.run(ctx) })
	wg.Go(func() { silence.run(ctx) })
	wg.Go(func() { held.Run(ctx) })
	wg.Go(func() { collectWhenIdle(ctx, m.idleCollections.Inc) })
	if c.cfg.OneProcAtRest {
		changes := func() <-chan struct{} {
			_, changed := cache.Current()
			return changed
		}
		wg.Go(func() { governProcs(ctx, changes, func(n int) { m.processors.Set(float64(n)) }) })
	} else {
		m.processors.Set(float64(runtime.GOMAXPROCS(0)))
	}
	if ms != nil {
		wg.Go(func() {
			if err := ms.Serve(); err != nil {
				errc <- fmt.Errorf("metrics server: %w", err)
			}
		})
	}
	if cs != nil {
		wg.Go(func() {
			if err := cs.Serve(ctx); err != nil {
				errc <- fmt.Errorf("console: %w", err)
			}
		})
	}

	// Serve nothing before this replica holds the stored state: a DNS
	// server or agent that connects while it loads would be handed a
	// snapshot or config compiled from an empty state, or without the
	// drains and holds, and would act on it.
	stop, runErr := awaitAll(ctx, errc, cache.Ready(), sw.Ready(), fleet.Ready())
	if stop {
		lis.Close()
	} else {
		if err := st.StartHistory(ctx); err != nil {
			c.log.Warn("setting where history starts; the leader tries again", "err", err)
		}
		ld := &leader{st: st, id: replicaID(c.cfg.Listen), cache: cache, fleet: fleet, reports: sw, metrics: m, log: c.log,
			retention: store.Retention{Count: c.cfg.HistoryMaxEntries, Age: c.cfg.HistoryMaxAge}, leading: &replica.leading}
		wg.Go(func() { ld.run(ctx) })
		wg.Go(func() { eh.run(ctx) })
		wg.Go(func() { fresh.run(ctx) })
		wg.Go(func() {
			if err := gs.Serve(lis); err != nil {
				errc <- fmt.Errorf("gRPC server: %w", err)
			}
		})
		c.mu.Lock()
		c.addr = lis.Addr()
		if ms != nil {
			c.metricsAddr = ms.Addr()
		}
		if cs != nil {
			c.consoleURL = cs.URL()
		}
		c.mu.Unlock()
		hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		c.log.Info("controller serving", "listen", endpoint.String(lis.Addr()), "metrics", c.cfg.MetricsListen, "console", c.consoleURL)
		close(c.ready)
		select {
		case <-ctx.Done():
		case runErr = <-errc:
		}
	}

	hs.Shutdown()
	cancel()
	stopGRPC(gs, 5*time.Second)
	if ms != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = ms.Shutdown(sctx)
		scancel()
	}
	wg.Wait()
	c.log.Info("controller stopped")
	return runErr
}

// keepaliveTimeout is how long a keepalive ping or a write may go
// unanswered before the connection is closed.
const keepaliveTimeout = 10 * time.Second

// MaxRequestBytes is the largest request the APIs take (gRPC's default):
// an apply larger than this is split by the client.
const MaxRequestBytes = 4 << 20

// connReadBuffer is each API connection's read buffer (gRPC's default is
// 32 KiB); reports and requests larger than it are read in more calls.
const connReadBuffer = 8 << 10

// connWriteBuffer is the size of the buffer each API connection writes
// through (gRPC's default is 32 KiB): a PoP's config of tens of services
// goes in one write, larger messages in several.
const connWriteBuffer = 8 << 10

// flowWindow is each stream's and connection's HTTP/2 receive window.
const flowWindow = 1 << 20

// serverOptions are the gRPC server's options: keepalive, and mutual TLS
// with role-based authorisation when configured.
func (c *Controller) serverOptions(m *metrics) []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxRequestBytes),
		// A connection that has not finished its handshake and HTTP/2
		// preface by then is closed (gRPC's default waits 120 s).
		grpc.ConnectionTimeout(c.cfg.HandshakeTimeout),
		// Agents and DNS servers ping their long-lived streams so that a
		// dead controller or peer is noticed in seconds, not minutes.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: keepaliveTimeout}),
		// Thousands of agent connections are mostly idle: a small read
		// buffer, and a write buffer taken from gRPC's shared pool only
		// while writing, keep each at a few KiB instead of gRPC's 64 KiB.
		// The write buffer is small too: gRPC's writer yields before it
		// flushes a small write, holding its buffer, so in a fan-out to
		// thousands of agents thousands are out at once and the pool
		// allocates them afresh. At 8,000 agents, 32 KiB buffers came to
		// 210 MB in three changes, most of what the controller allocated,
		// with the collections and page faults that came with it; 8 KiB
		// ones to 61 MB.
		grpc.WriteBufferSize(connWriteBuffer),
		grpc.ReadBufferSize(connReadBuffer),
		// Fixed flow-control windows. gRPC's default estimates each
		// connection's bandwidth-delay product by answering received data
		// with a window update and a ping whenever no estimate is under
		// way: for an agent reporting every few seconds that is every
		// report, a write and another read per report on every connection.
		// 1 MiB (the estimate starts at 64 KiB) carries the largest request
		// in a few round trips.
		grpc.StaticStreamWindowSize(flowWindow),
		grpc.StaticConnWindowSize(flowWindow),
	}
	if c.apiTLS == nil {
		// On loopback or a Unix socket only local users reach the API, so
		// plain text is a choice worth noting, not a warning.
		log := c.log.Warn
		if localOnly(c.cfg.Listen) {
			log = c.log.Info
		}
		log("the Admin, Agent and GSLB feed APIs are unauthenticated plain-text gRPC: whoever reaches --listen may change the desired state, "+
			"pose as any PoP's agent and read the GSLB snapshot; keep it on loopback or a Unix socket, or give --tls-cert, --tls-key and --tls-client-ca",
			"listen", c.cfg.Listen)
		return opts
	}
	c.log.Info("the APIs require client certificates signed by --tls-client-ca; roles come from their OrganizationalUnit", "tls_client_ca", c.cfg.TLSClientCA)
	return append(opts, authn.ServerOptions(c.apiTLS.ServerConfig("h2"), c.log, func(reason string) { m.tlsRefused.WithLabelValues(reason).Inc() })...)
}

// connectEtcd starts the embedded etcd or connects to the external cluster.
// failed reports a failure of the embedded member while it runs; it is nil
// for an external cluster, whose failures the client sees.
func (c *Controller) connectEtcd(ctx context.Context) (st *store.Store, failed <-chan error, closeFn func(), err error) {
	if len(c.cfg.EtcdEndpoints) > 0 {
		etcdTLS, err := c.cfg.etcdTLS(c.log)
		if err != nil {
			return nil, nil, nil, err
		}
		var tlsCfg *tls.Config
		var creds credentials.TransportCredentials
		if etcdTLS != nil {
			c.etcdTLS = etcdTLS
			go etcdTLS.Watch(ctx)
			// The etcd client takes the files in use at each handshake;
			// its own TLS config decides which endpoints get TLS.
			current := func() *tls.Config { return etcdTLS.ClientConfig("") }
			tlsCfg, creds = current(), authn.Credentials(current)
		}
		password, err := c.cfg.etcdPassword()
		if err != nil {
			return nil, nil, nil, err
		}
		st, err := store.Dial(ctx, store.DialConfig{
			Endpoints:      c.cfg.EtcdEndpoints,
			TLS:            tlsCfg,
			TLSCredentials: creds,
			Username:       c.cfg.EtcdUsername,
			Password:       password,
			// Large applies are one transaction; match the embedded
			// server's request limit (raise --max-request-bytes on the
			// external cluster too).
			MaxCallSendMsgSize: etcdembed.MaxRequestBytes + 512<<10,
		}, c.log)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--etcd-endpoints %q: %w", c.cfg.EtcdEndpoints, err)
		}
		return st, nil, func() { st.Close() }, nil
	}
	srv, err := etcdembed.Start(ctx, etcdembed.Config{Dir: c.cfg.DataDir, Logger: c.log, UnsafeNoFsync: c.cfg.EtcdUnsafeNoFsync})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("embedded etcd in --data-dir %q: %w", c.cfg.DataDir, err)
	}
	cli, err := srv.Client()
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	st = store.New(cli, c.log)
	return st, srv.Err(), func() { st.Close(); srv.Close() }, nil
}

// stopGRPC drains streams and calls, then forces the rest after timeout.
func stopGRPC(gs *grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() { gs.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		gs.Stop()
		<-done
	}
}

// trackObjectCounts keeps the per-kind object gauge current.
func trackObjectCounts(ctx context.Context, cache *stateCache, m *metrics) {
	for {
		s, changed := cache.Current()
		for _, k := range resource.Kinds() {
			m.objects.WithLabelValues(resource.KindName(k)).Set(float64(len(s.OfKind(k))))
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// replicaID names this replica in the leader election.
func replicaID(listen string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%s/%d", host, listen, os.Getpid())
}

// localOnly reports whether a listen address is reachable from this host
// only: a Unix socket or a loopback address.
func localOnly(listen string) bool {
	if strings.HasPrefix(listen, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
