// Package agent runs one PoP: it holds a stream to a controller, keeps the
// last accepted config on disk, runs the health checks that gate the PoP's
// announcements, and hands the full desired set of announcements to its
// embedded BGP speaker, which diffs it against what it announced.
package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/metricshttp"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// Agent is one PoP's agent.
type Agent struct {
	cfg     Config
	policy  *Policy
	log     *slog.Logger
	metrics *metrics
	ready   chan struct{}

	connected atomic.Bool // a controller stream is established
	// restart makes the stop a restart (see ExitForRestart).
	restart atomic.Bool
	// revision is the revision of the config the loop runs, stored by the
	// loop and read by the session for its hello.
	revision atomic.Int64

	mu          sync.Mutex // guards metricsAddr and lastStatus
	metricsAddr net.Addr
	lastStatus  *v1.PopStatus
}

// New checks the config and returns an agent ready to Run.
func New(cfg Config) (*Agent, error) {
	policy, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	m := newMetrics()
	if cfg.clientTLS != nil {
		m.reg.MustRegister(authn.Collector(cfg.clientTLS))
	}
	return &Agent{
		cfg:     cfg,
		policy:  policy,
		log:     cfg.Logger.With("pop", cfg.Pop),
		metrics: m,
		ready:   make(chan struct{}),
	}, nil
}

// ExitForRestart makes the coming stop (Run's context ending) a restart
// that moves no traffic, when graceful restart is enabled: the agent records
// which services are healthy, stops its checks and returns from Run with its
// BGP sessions still open, for the process to exit and close them without a
// NOTIFICATION. Peers that support RFC 4724 keep the PoP's routes for the
// restart time; the next start sends them again, then End-of-RIB. Without
// graceful restart the stop is the usual one.
func (a *Agent) ExitForRestart() { a.restart.Store(true) }

// Ready is closed once the agent has started (its metrics listener bound).
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// MetricsAddr is the bound metrics address, nil when disabled.
func (a *Agent) MetricsAddr() net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.metricsAddr
}

// ControllerConnected reports whether a controller stream is established.
func (a *Agent) ControllerConnected() bool { return a.connected.Load() }

// Status returns the last status the agent computed, nil before the first.
func (a *Agent) Status() *v1.PopStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastStatus
}

// Run runs the agent until ctx is cancelled. Then, if anything is announced,
// it tags every announcement with GRACEFUL_SHUTDOWN, waits the shutdown
// grace period so routers move traffic away, and closes the sessions.
func (a *Agent) Run(ctx context.Context) error {
	if a.cfg.MetricsListen != "" {
		ms, err := metricshttp.Listen(a.cfg.MetricsListen, a.metrics.reg)
		if err != nil {
			return fmt.Errorf("metricsListen %q: %w", a.cfg.MetricsListen, err)
		}
		a.mu.Lock()
		a.metricsAddr = ms.Addr()
		a.mu.Unlock()
		go func() {
			if err := ms.Serve(); err != nil {
				a.log.Error("metrics listener failed; metrics are no longer served", "addr", ms.Addr().String(), "err", err)
			}
		}()
		defer ms.Close()
	}

	if a.cfg.clientTLS != nil {
		go a.cfg.clientTLS.Watch(ctx)
	}
	l := newLoop(a)
	if gr := a.cfg.GracefulRestart; gr.Enabled {
		resumed, err := takeRestart(a.cfg.StateDir, time.Duration(gr.RestartTime))
		if err != nil {
			a.log.Error("ignoring the restart record", "err", err)
		}
		if resumed != nil {
			a.log.Info("resuming after a restart: announcing what was healthy while the checks start", "healthy", len(resumed))
			l.resumed = resumed
		}
	}
	persisted, err := loadConfig(a.cfg.StateDir)
	if err != nil {
		a.log.Error("refusing the persisted config: announcing nothing until the controller sends one", "file", filepath.Join(a.cfg.StateDir, configFile), "err", err)
		a.metrics.persistedRefused.Set(1)
		l.persistedRefused = err.Error() // names the file
		l.reportSoon()
	}
	if persisted != nil && persisted.GetPop() == a.cfg.Pop {
		a.log.Info("restored persisted config", "revision", persisted.GetRevision())
		l.applyConfig(ctx, accept(persisted))
	}

	sctx, stopSession := context.WithCancel(ctx)
	defer stopSession()
	if len(a.cfg.controllers) > 0 {
		go l.sess.run(sctx)
	} else {
		a.log.Warn("no controller configured; running from the persisted config only")
	}
	close(a.ready)
	l.run(ctx)
	stopSession()
	l.shutdown()
	return nil
}

// loop is the agent's owner goroutine state: every field is touched only by
// the goroutine running loop.run (and shutdown after it).
type loop struct {
	a       *Agent
	sess    *session
	configs chan *v1.PopConfig
	conn    chan bool
	health  chan healthEvent
	cfg     *accepted
	prev    *accepted // the config before cfg, for logging what changed
	sp      *speaker.Speaker
	spKey   string
	// spErr is why the speaker could not be started or reconfigured, nil
	// once it was; spRetry fires the next attempt (nil when none is
	// pending), spaced by spBackoff.
	spErr     error
	spRetry   <-chan time.Time
	spBackoff *backoff.Backoff
	checks    map[string]*runningCheck
	origins   map[string]*originProbe
	// originEvents wakes the loop when an origin's health changes.
	originEvents chan struct{}
	// reportC fires a pending status report; nil when none is pending.
	reportC <-chan time.Time
	healthy map[string]bool
	// lost is true while the agent counts its controller unreachable:
	// before the first stream, and once no stream has been established
	// for lossGrace since the last one ended (lossC fires then; nil when
	// no stream is down, or lost is already true).
	lost      bool
	lossC     <-chan time.Time
	lossGrace time.Duration
	shutting  bool
	states    []prefixState
	// resumed holds the services healthy when the agent exited for a
	// restart, until the first config is applied; nil otherwise.
	resumed map[string]bool
	// persistedRefused says why the persisted config was refused at
	// start, for the reports; empty when it was not.
	persistedRefused string
}

func newLoop(a *Agent) *loop {
	l := &loop{
		a:            a,
		configs:      make(chan *v1.PopConfig, 1),
		conn:         make(chan bool, 1),
		health:       make(chan healthEvent, 64),
		checks:       map[string]*runningCheck{},
		origins:      map[string]*originProbe{},
		originEvents: make(chan struct{}, 1),
		healthy:      map[string]bool{},
		lost:         true,
		lossGrace:    controllerLossGrace,
		spBackoff:    backoff.New(speakerRetryMin, speakerRetryMax),
	}
	l.sess = &session{
		controllers: controlconn.NewRotation(a.cfg.controllers),
		pop:         a.cfg.Pop,
		instance:    newInstance(),
		log:         a.log,
		tls:         a.cfg.tlsConfig(),
		revision:    &a.revision,
		configs:     l.configs,
		connected:   l.conn,
		reports:     make(chan *v1.PopStatus, 1),
		staleAfter:  time.Duration(a.cfg.ControllerStaleAfter),
		// The loop reports every StatusInterval: one and a half
		// without a report, and it is busy. A report is so kept alive
		// within two and a quarter intervals (11.25 s by default, under
		// the controller's 15 s status TTL).
		keepAlive: 3 * time.Duration(a.cfg.StatusInterval) / 2,
	}
	return l
}

func (l *loop) run(ctx context.Context) {
	tick := time.NewTicker(time.Duration(l.a.cfg.StatusInterval))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case cfg := <-l.configs:
			if l.cfg != nil && proto.Equal(cfg, l.cfg.wire) {
				continue
			}
			if err := saveConfig(l.a.cfg.StateDir, cfg); err != nil {
				l.a.log.Error("persisting config failed; running it anyway", "err", err)
			} else {
				l.a.metrics.persistedRefused.Set(0)
			}
			l.applyConfig(ctx, accept(cfg))
		case up := <-l.conn:
			l.a.connected.Store(up)
			l.a.metrics.controllerConnected.Set(boolFloat(up))
			switch {
			case up:
				l.lost, l.lossC = false, nil
			case !l.lost && l.lossC == nil:
				l.lossC = time.After(l.lossGrace)
			}
			l.reconcile(ctx)
		case <-l.lossC:
			l.lossC = nil
			l.lost = true
			l.a.log.Warn("no controller stream for the loss grace: the controller counts as unreachable", "grace", l.lossGrace)
			l.reconcile(ctx)
		case ev := <-l.health:
			l.noteHealth(ev)
			// Many checks may change at once (a shared dependency):
			// take every queued transition into one reconcile.
			for more := true; more; {
				select {
				case ev := <-l.health:
					l.noteHealth(ev)
				default:
					more = false
				}
			}
			l.reconcile(ctx)
		case <-l.reportC:
			l.reportC = nil
			l.report(ctx)
		case <-l.spRetry:
			l.spRetry = nil
			l.syncSpeaker(ctx)
			l.reconcile(ctx)
		case <-l.originEvents:
			l.reportSoon()
		case <-tick.C:
			l.report(ctx)
		}
	}
}

// noteHealth records a check's transition, unless it comes from a checker
// since replaced.
func (l *loop) noteHealth(ev healthEvent) {
	if c, ok := l.checks[ev.service]; ok && c == ev.check {
		if was, known := l.healthy[ev.service]; !known || was != ev.up {
			logCheck(l.a.log, ev.service, ev.up, c.checker.Status())
		}
		l.healthy[ev.service] = ev.up
	}
}

// reportSoon schedules a status report shortly, so that a burst of origin
// probe changes makes one report (reading peer status from GoBGP is not
// free at scale). Announcement changes are reported at once.
func (l *loop) reportSoon() {
	if l.reportC == nil {
		l.reportC = time.After(reportDelay)
	}
}

// reportDelay is how long a change waits to be reported, gathering others.
const reportDelay = 20 * time.Millisecond

// controllerLossGrace is how long the agent goes without a controller
// stream, after one ended, before it counts the controller unreachable
// (and withdraws the services that say onControllerLoss: withdraw). A
// stream that ends is most often a move to another replica (the replica
// restarted, stopped confirming, or the path blinked), which takes a
// connection attempt or two (5 s each at most): that is no loss of the
// controller, and the routers must not see it.
const controllerLossGrace = 10 * time.Second

// applyConfig starts or reconfigures the speaker and the checks for a
// newly accepted config, then reconciles.
func (l *loop) applyConfig(ctx context.Context, cfg *accepted) {
	if l.a.cfg.applying != nil {
		l.a.cfg.applying(cfg.revision())
	}
	l.prev, l.cfg = l.cfg, cfg
	l.a.revision.Store(cfg.revision())
	l.a.metrics.configRevision.Set(float64(cfg.revision()))
	l.noteDrainSteps(cfg)
	l.syncSpeaker(ctx)
	l.syncChecks(ctx)
	l.resumed = nil
	l.syncOriginProbes(ctx)
	l.reconcile(ctx)
}

// reconcile hands the speaker the full desired set of announcements.
func (l *loop) reconcile(ctx context.Context) {
	if l.cfg == nil {
		return
	}
	anns, states := desired(view{cfg: l.cfg, healthy: l.healthy, controllerLost: l.lost, shuttingDown: l.shutting, policy: l.a.policy})
	l.noteRefusals(states)
	if l.sp == nil {
		settle(states, nil, fmt.Sprintf("BGP speaker not running: %v", l.spErr))
	} else {
		if anns == nil {
			anns = []speaker.Announcement{}
		}
		if err := l.sp.SetAnnouncements(ctx, anns); err != nil {
			l.a.log.Error("setting announcements", "err", err)
			settle(states, l.sp.Announced(), "the BGP speaker did not take the set: "+err.Error())
		}
	}
	l.a.metrics.announced.Set(float64(countAnnounced(states)))
	l.noteAnnouncements(states)
	l.states = states
	l.report(ctx)
}

// noteRefusals logs and counts prefixes newly refused by local policy.
func (l *loop) noteRefusals(states []prefixState) {
	was := map[string]bool{}
	for _, s := range l.states {
		if s.refused {
			was[s.status.GetService()+"/"+s.status.GetPrefix()] = true
		}
	}
	for _, s := range states {
		if s.refused && !was[s.status.GetService()+"/"+s.status.GetPrefix()] {
			l.a.log.Warn("refusing to announce", "service", s.status.GetService(), "prefix", s.status.GetPrefix(), "reason", s.status.GetReason())
			l.a.metrics.refusals.WithLabelValues(s.status.GetService()).Inc()
		}
	}
}

// shutdown ends the agent. A stop tags announcements with
// GRACEFUL_SHUTDOWN and the drain's prepends, waits the grace period, then
// closes the sessions with an administrative shutdown. A restart (see
// ExitForRestart) records what is healthy and leaves the sessions open.
func (l *loop) shutdown() {
	ctx := context.Background()
	restart := l.a.restart.Load() && l.a.cfg.GracefulRestart.Enabled
	if !restart && l.sp != nil && len(l.sp.Announced()) > 0 && l.a.cfg.ShutdownGrace > 0 {
		l.shutting = true
		l.a.log.Info("stopping: announcements carry GRACEFUL_SHUTDOWN and the drain's prepends", "grace", time.Duration(l.a.cfg.ShutdownGrace))
		l.reconcile(ctx)
		time.Sleep(time.Duration(l.a.cfg.ShutdownGrace))
	}
	for name, c := range l.checks {
		c.stop()
		delete(l.checks, name)
	}
	for name, o := range l.origins {
		o.stop()
		delete(l.origins, name)
	}
	if restart {
		if err := saveRestart(l.a.cfg.StateDir, l.healthy); err != nil {
			l.a.log.Error("recording the healthy services for the restart; the next start waits for its checks", "err", err)
		}
		l.a.log.Info("exiting for a restart: sessions close without a NOTIFICATION; peers keep the routes", "restartTime", time.Duration(l.a.cfg.GracefulRestart.RestartTime))
		return
	}
	if l.sp != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := l.sp.Stop(sctx, "anyctl agent of PoP "+l.a.cfg.Pop+" stopping"); err != nil {
			l.a.log.Warn("stopping BGP speaker", "err", err)
		}
		cancel()
	}
	l.a.log.Info("agent stopped")
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
