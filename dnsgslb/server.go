package dnsgslb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/dnsgslb/cookie"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Server is an authoritative GSLB DNS server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	geoip   *geoIP // nil without a GeoIP database
	index   atomic.Pointer[index.Index]
	metrics *metrics
	// coalesceBusy is the CPU share at which a UDP worker starts to
	// coalesce (coalescer); tests lower it.
	coalesceBusy float64
	// persistedRefusal says why the persisted snapshot was refused at
	// start; set in New only.
	persistedRefusal string
	signing          *signing // nil without DNSSEC keys
	// keySetsChanged holds a signal when the DNSKEY RRsets answered
	// changed (see KeySetsChanged).
	keySetsChanged chan struct{}
	jar            *cookie.Jar // nil with cookies off
	nsid           []byte      // nil without an identity
	chaos          *chaos      // nil without an identity or version
	clock          clock       // seconds, for cookies
	rrl            *rrl        // nil when off
	tap            *tap        // nil when off

	updateMu sync.Mutex // guards the order of index swaps and snapshot writes, savedTable, snap and waiting
	// savedTable is the key of the prefix table in the state directory.
	savedTable string
	// snap is the snapshot served, compiled again on a GeoIP reload.
	snap *v1.GslbSnapshot
	// waiting is the last snapshot that could not be compiled only
	// because the GeoIP database could not be read (errNoGeoIP), newer
	// than snap: a reload serves it.
	waiting *v1.GslbSnapshot

	reloadMu sync.Mutex // serializes GeoIP reloads, guards geoIPFile
	// geoIPFile is the GeoIP file as last read, or tried.
	geoIPFile fileState
	// refining counts the refine goroutines running.
	refining sync.WaitGroup
	// refineMu guards stopRefine, which cancels the build of the refine
	// goroutine last started: an update does not wait behind it.
	refineMu   sync.Mutex
	stopRefine context.CancelFunc
	// updating counts the updates started and not yet swapped in: a
	// refine that finds one waiting gives way to it.
	updating atomic.Int32
	// refines is the parent of every refine's context; endRefines, called
	// when Run returns, cancels them all.
	refines    context.Context
	endRefines context.CancelFunc

	ready   chan struct{}
	udpAddr net.Addr // set before ready is closed
	tcpAddr net.Addr // set before ready is closed
}

// New is NewContext with a context that never ends.
func New(cfg Config) (*Server, error) { return NewContext(context.Background(), cfg) }

// NewContext checks the configuration, starts reading the GeoIP database
// and loads the persisted snapshot, if any, so the server answers from it
// as soon as it runs. With the prefix table persisted beside the snapshot,
// that takes neither the database nor the time to build a table from it.
// A persisted snapshot that cannot be read is logged and ignored. When
// ctx ends first (SIGTERM during a start that must read the database and
// build a table), it returns ctx's error at once.
func NewContext(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		return nil, errors.New("dnsgslb: Listen is empty: want host:port, e.g. \"[::]:53\"")
	}
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		return nil, fmt.Errorf("dnsgslb: Listen %q: %w", cfg.Listen, err)
	}
	if cfg.GeoIPReloadInterval < 0 {
		return nil, fmt.Errorf("dnsgslb: GeoIPReloadInterval %v: want 0 (never) or more", cfg.GeoIPReloadInterval)
	}
	if cfg.UDPWorkers < 0 {
		return nil, fmt.Errorf("dnsgslb: UDPWorkers %d: want 1 or more (0 for the default)", cfg.UDPWorkers)
	}
	switch {
	case cfg.UDPMode < UDPAuto || cfg.UDPMode > UDPNetpoller:
		return nil, fmt.Errorf("dnsgslb: UDPMode %d: want UDPAuto, UDPBlocking or UDPNetpoller", int(cfg.UDPMode))
	case cfg.UDPMode == UDPBlocking && !blockingSupported:
		return nil, errors.New("dnsgslb: UDPBlocking needs Linux on amd64 or arm64")
	}
	if cfg.UDPCoalesce > MaxUDPCoalesce {
		return nil, fmt.Errorf("dnsgslb: UDPCoalesce %v: want at most %v (0 for %v, negative for none)", cfg.UDPCoalesce, MaxUDPCoalesce, DefaultUDPCoalesce)
	}
	if cfg.UDPCoalesce == 0 {
		cfg.UDPCoalesce = DefaultUDPCoalesce
	}
	if len(cfg.Identity) > maxIdentity {
		return nil, fmt.Errorf("dnsgslb: Identity %q: %d bytes, want at most %d", cfg.Identity, len(cfg.Identity), maxIdentity)
	}
	if len(cfg.VersionBind) > maxIdentity {
		return nil, fmt.Errorf("dnsgslb: VersionBind %q: %d bytes, want at most %d", cfg.VersionBind, len(cfg.VersionBind), maxIdentity)
	}
	tcp, tcpErr := cfg.TCP.withDefaults()
	if tcpErr != nil {
		return nil, fmt.Errorf("dnsgslb: %w", tcpErr)
	}
	cfg.TCP = tcp
	if cfg.UDPWorkers == 0 {
		cfg.UDPWorkers = startProcs
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics(), ready: make(chan struct{}), keySetsChanged: make(chan struct{}, 1), coalesceBusy: coalesceBusy}
	s.refines, s.endRefines = context.WithCancel(context.Background())
	if cfg.DNSSECKeyDir != "" {
		sg, err := newSigning(cfg.DNSSECKeyDir)
		if err != nil {
			return nil, fmt.Errorf("dnsgslb: DNSSECKeyDir: %w", err)
		}
		s.signing = sg
	}
	s.clock.set()
	if !cfg.NoCookies {
		s.jar = cfg.Cookies
		if s.jar == nil {
			s.jar = cookie.RandomJar()
			s.log.Info("dns cookies use a random secret of this server's own: servers of one anycast address accept each other's cookies only with a shared secret file")
		}
	}
	if cfg.Identity != "" {
		s.nsid = []byte(cfg.Identity)
	}
	s.chaos = newChaos(cfg.Identity, cfg.VersionBind)
	rrlCfg := DefaultRRL()
	if cfg.RRL != nil {
		rrlCfg = *cfg.RRL
	}
	var err error
	if s.rrl, err = newRRL(rrlCfg); err != nil {
		return nil, fmt.Errorf("dnsgslb: %w", err)
	}
	if s.tap, err = newTap(cfg.Dnstap); err != nil {
		return nil, fmt.Errorf("dnsgslb: %w", err)
	}
	var geoIPErr error
	if cfg.GeoIPPath != "" {
		// The file's state is taken before it is named: a file renamed
		// over the path meanwhile (geoipupdate) then differs from it, and
		// the watcher reads it, whether or not the first read refuses
		// it as not the one named.
		s.geoIPFile, _ = statFile(cfg.GeoIPPath)
		s.geoip, geoIPErr = openGeoIP(cfg.GeoIPPath, s.log)
		geoIPNamed()
	}
	var snap *v1.GslbSnapshot
	var table *geo.Table
	if cfg.StateDir != "" {
		removeTemporaries(cfg.StateDir, snapshotFile, tableFile)
		if snap, err = loadSnapshot(cfg.StateDir); err == nil && snap != nil {
			table = s.loadTable()
		}
	}
	if geoIPErr != nil {
		// A file that cannot be named keeps a restart from answering
		// only when nothing persisted places clients without it: a
		// table built without a database (a run without one) places
		// them all at the default, no placement of a database to keep.
		if table == nil || table.DBID() == "" || table.DBID() == (*geo.DB)(nil).ID() {
			return nil, fmt.Errorf("dnsgslb: GeoIPPath: %w", geoIPErr)
		}
		s.geoip = unreadGeoIP(cfg.GeoIPPath, geoIPErr, s.log)
	}
	if s.geoip != nil && s.geoip.standInFor(table) && geoIPErr == nil {
		if table.DBID() == (*geo.DB)(nil).ID() {
			s.log.Info("dns places clients as the run before without a GeoIP database did, those outside PoP cache networks at the default location, until it has read the file", "path", cfg.GeoIPPath, "default_location", cfg.DefaultLocation)
		} else {
			s.log.Info("dns places clients by the persisted prefix table of the GeoIP database read before until it has read the file, which holds another", "path", cfg.GeoIPPath)
		}
	}
	if cfg.StateDir != "" {
		// An unreadable snapshot must not keep the server down: it starts
		// empty and the controller's next snapshot replaces the file.
		s.updateMu.Lock()
		if err == nil && snap != nil {
			err = s.swap(ctx, snap, table)
			if err == nil {
				if err := s.saveTableLocked(); err != nil {
					s.log.Warn("dns: cannot persist the prefix table; the next start builds it again", "err", err)
				}
			}
			if errors.Is(err, errNoGeoIP) {
				s.waiting = snap
			}
		}
		s.updateMu.Unlock()
		if ctx.Err() != nil {
			if s.geoip != nil {
				s.geoip.stop() // the read a compile waited for
			}
			return nil, ctx.Err()
		}
		if err != nil && geoIPErr != nil {
			// The persisted table does not place the persisted
			// snapshot (another default location, or PoP networks
			// whose table was not written): started, the server would
			// answer SERVFAIL to every name until the file is fixed.
			why := err.Error()
			if errors.Is(err, errNoGeoIP) {
				why = "the persisted prefix table does not place it"
			}
			return nil, fmt.Errorf("dnsgslb: GeoIPPath: %w; the persisted snapshot cannot be served without it: %s", geoIPErr, why)
		}
		if err != nil {
			s.log.Error("dns: refusing the persisted snapshot; answering SERVFAIL until the controller sends one", "file", filepath.Join(cfg.StateDir, snapshotFile), "err", err)
			s.metrics.persistedRefused.Store(true)
			s.persistedRefusal = err.Error()
		}
	}
	if geoIPErr != nil {
		s.log.Error("dns cannot open the GeoIP database; clients are placed by the persisted prefix table of the one read before until the file can be read", "path", cfg.GeoIPPath, "err", geoIPErr)
	}
	if s.geoip != nil {
		// Read after the persisted state is served, so as not to slow it.
		s.geoip.read(s.index.Load() == nil)
	}
	return s, nil
}

// ErrNotPersisted wraps a failure to save a snapshot that is nevertheless
// being served.
var ErrNotPersisted = errors.New("snapshot served but not persisted")

// Update compiles a snapshot, swaps it in and persists it. On a compile
// error the server keeps answering from the snapshot it had. When only the
// save fails, the new snapshot is served and the error wraps
// ErrNotPersisted.
func (s *Server) Update(snap *v1.GslbSnapshot) error {
	return s.UpdateContext(context.Background(), snap)
}

// UpdateContext is Update that gives up, keeping the snapshot it had, once
// ctx ends. The build runs beside the serving workers at a low priority
// (on Linux, a thread of its own, in SCHED_IDLE or at niceness 10, see
// InBackground), so that it never takes their CPU.
func (s *Server) UpdateContext(ctx context.Context, snap *v1.GslbSnapshot) error {
	if snap == nil {
		return errors.New("dnsgslb: Update: the snapshot is nil; the server keeps the one it has")
	}
	// A background build adding scope tables gives way: the update's own
	// build adds them within its budget, and schedules the rest again.
	// One started meanwhile (by a reload) gives way too (updating).
	s.updating.Add(1)
	s.refineMu.Lock()
	if s.stopRefine != nil {
		s.stopRefine()
	}
	s.refineMu.Unlock()
	s.updateMu.Lock()
	defer s.updateMu.Unlock()
	err := s.swap(ctx, snap, nil)
	s.updating.Add(-1)
	if errors.Is(err, errNoGeoIP) {
		s.waiting = snap
	}
	if err != nil {
		// The refine stopped above belonged to the index still served:
		// without scope tables, or not all of them, until it runs again.
		if ix := s.index.Load(); ix != nil && s.snap != nil && (ix.Quick() || ix.Unfinished()) {
			s.startRefineLocked(s.snap, ix)
		}
		if ctx.Err() == nil {
			s.metrics.rejected.Store(true)
		}
		return fmt.Errorf("snapshot revision %d: %w", snap.GetRevision(), err)
	}
	s.waiting = nil
	s.metrics.persistedRefused.Store(false)
	s.metrics.rejected.Store(false)
	if s.cfg.StateDir == "" {
		return nil
	}
	// Marshalled and written at the build's low priority too: thousands
	// of records are a few MB.
	err = InBackground(func() error { return saveSnapshot(s.cfg.StateDir, snap) })
	if err == nil {
		err = s.saveTableLocked()
	}
	s.metrics.notPersisted.Store(err != nil)
	if err != nil {
		return fmt.Errorf("snapshot revision %d: %w: %w", snap.GetRevision(), ErrNotPersisted, err)
	}
	return nil
}

// errNoGeoIP wraps the error of a snapshot that needs a prefix table
// built from the GeoIP database, which could not be read.
var errNoGeoIP = errors.New("cannot read the GeoIP database")

// swap compiles snap and serves it. table is a prefix table read from the
// state directory, used if it is the one snap needs.
func (s *Server) swap(ctx context.Context, snap *v1.GslbSnapshot, table *geo.Table) (err error) {
	// A context that ended while the caller waited for updateMu (the
	// server stopping) builds nothing: the compile checks it only after
	// the prefix table is built, seconds from a City-sized database.
	if err := ctx.Err(); err != nil {
		return err
	}
	prev := s.index.Load()
	opts := index.Options{
		Default:    s.cfg.DefaultLocation,
		ZoneSlot:   s.metrics.zoneSlot,
		OriginSlot: s.metrics.originSlot,
		Previous:   prev,
		Table:      table,
		// Nothing is answered from an index yet: the build may take
		// every processor, and answers come first, their scope tables
		// after (see refine).
		Concurrent: prev == nil,
		Quick:      prev == nil,
	}
	if s.geoip != nil {
		opts.GeoIP, opts.GeoIPID = s.geoip.current()
	}
	var keyState string
	var published []KeySet
	if s.signing != nil {
		now := time.Now()
		signers, state, waiting, held, serr := s.signing.signers(now)
		if serr != nil {
			return serr
		}
		if state != s.signing.currentState() {
			for _, err := range waiting {
				s.log.Warn("dns: answering a zone unsigned until one of its keys signs", "dir", s.signing.dir, "err", err)
			}
			for _, err := range held {
				s.log.Error("dns: a signed zone has no key that signs; it is signed with the keys it was signed with", "err", err)
			}
		}
		defer func() {
			if err == nil {
				s.signing.hold(signers, s.index.Load().SignedZones(), now)
			}
		}()
		opts.Signers, opts.Now, keyState = signers, func() time.Time { return now }, state
		published = keySets(signers, now)
	}
	type built struct {
		ix  *Index
		err error
	}
	// A first index is the server's only work: until it is built every
	// query is refused, and a build that gives way to the machine's
	// other processes leaves the server refusing for as long (34 s next
	// to two busy loops at City size).
	first := prev == nil
	compile := func() built {
		return inBackgroundUnless(first, func() built {
			ix, err := index.CompileContext(ctx, snap, opts)
			return built{ix, err}
		})
	}
	b := compile()
	if errors.Is(b.err, index.ErrNeedGeoIP) {
		db, err := s.geoip.wait(ctx, first)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("%w %q: %w", errNoGeoIP, s.geoip.path, err)
		}
		if err != nil {
			return fmt.Errorf("GeoIP database %q: %w", s.geoip.path, err)
		}
		opts.GeoIP = db
		b = compile()
	}
	ix, err := b.ix, b.err
	if err != nil {
		return err
	}
	if table != nil && ix.Table() == table {
		s.savedTable = table.Key()
	}
	s.index.Store(ix)
	s.snap = snap
	if s.signing != nil {
		s.signing.mu.Lock()
		s.signing.state = keyState
		s.signing.mu.Unlock()
		// Keys of zones the snapshot does not hold are not answered:
		// reported, they would read as a disagreement with the servers
		// without them.
		signed := ix.SignedZones()
		s.setPublished(slices.DeleteFunc(published, func(set KeySet) bool { return !slices.Contains(signed, set.Zone) }))
		s.metrics.resignAt.Store(ix.ResignAt().Unix())
	}
	s.metrics.revision.Store(ix.Revision())
	s.metrics.compiledAt.Store(ix.CompiledAt().UnixNano())
	if ix.Quick() || ix.Unfinished() {
		s.startRefineLocked(snap, ix)
	}
	return nil
}

// startRefineLocked starts refining ix, compiled from snap, in the
// background (see refine). The caller holds updateMu.
func (s *Server) startRefineLocked(snap *v1.GslbSnapshot, ix *Index) {
	rctx, cancel := context.WithCancel(s.refines)
	s.refineMu.Lock()
	s.stopRefine = cancel
	s.refineMu.Unlock()
	s.refining.Add(1)
	go s.refine(rctx, snap, ix)
}

// refine builds the full index of a snapshot first served from a quick one
// (index.Options.Quick), or one whose build left scope tables for later
// (index.Index.Unfinished), in the background at a low priority, unless a
// newer snapshot replaced it first. A build that is still unfinished
// refines again, so the scope tables are added between updates rather
// than by them. An update cancels it (ctx), and one that has not started
// building gives way to an update waiting (updating): the update's build
// takes its place, so that no update waits behind it.
func (s *Server) refine(ctx context.Context, snap *v1.GslbSnapshot, quick *Index) {
	defer s.refining.Done()
	s.updateMu.Lock()
	defer s.updateMu.Unlock()
	if s.index.Load() != quick || ctx.Err() != nil || s.updating.Load() > 0 {
		return // replaced, or an update waits: it refines if it fails
	}
	if s.geoip != nil {
		if _, id := s.geoip.current(); quick.Table().DBID() != id {
			// Placed by the persisted table of another database, now
			// read: compiled now, the snapshot would move clients
			// without persisting the new table. adoptFirstRead (or a
			// reload) compiles it, with the scope tables.
			return
		}
	}
	start := time.Now()
	if err := s.swap(ctx, snap, nil); err != nil {
		if ctx.Err() != nil {
			return // an update replaces it
		}
		s.log.Warn("dns: cannot add ECS scope tables; answering with narrower scopes until the next snapshot", "revision", snap.GetRevision(), "err", err)
		return
	}
	s.log.Info("dns added the ECS scope tables", "revision", snap.GetRevision(), "took", time.Since(start).Round(time.Millisecond), "more_to_come", s.index.Load().Unfinished())
}

// PersistedRefusal says why the snapshot persisted in the state directory
// was refused when the server started (damaged, or from an older
// version); empty when there was none or it was read.
func (s *Server) PersistedRefusal() string { return s.persistedRefusal }

// Persisted reports whether the snapshot served is the one written to the
// state directory, or there is none: false after writing it failed.
func (s *Server) Persisted() bool { return !s.metrics.notPersisted.Load() }

// Index returns the index being served; nil before the first snapshot.
func (s *Server) Index() *Index { return s.index.Load() }

// Collector exports the server's metrics.
func (s *Server) Collector() prometheus.Collector {
	cs := collectors{s.metrics}
	if s.geoip != nil {
		cs = append(cs, s.geoip)
	}
	if s.rrl != nil {
		cs = append(cs, s.rrl)
	}
	if s.tap != nil {
		cs = append(cs, s.tap)
	}
	return append(cs, keySetCollector{s})
}

// Ready is closed once Run listens; Addr is valid from then on.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the UDP and TCP addresses served; nil before Ready.
func (s *Server) Addr() (udp, tcp net.Addr) {
	select {
	case <-s.ready:
		return s.udpAddr, s.tcpAddr
	default:
		return nil, nil
	}
}

// startProcs is GOMAXPROCS as the process started, before Run raises it
// for blocking workers: the processors the default UDP workers spread over.
var startProcs = runtime.GOMAXPROCS(0)

// Run serves UDP and TCP until ctx is cancelled, then returns nil. It
// returns an error only when it cannot listen. Call it once.
func (s *Server) Run(ctx context.Context) error {
	stopTap, err := s.startTap()
	if err != nil {
		return err
	}
	defer stopTap()
	blocking := s.cfg.UDPMode.blocking()
	udp, tcp, err := listen(ctx, s.cfg.Listen, s.cfg.UDPWorkers, blocking)
	if err != nil {
		return err
	}
	if blocking {
		// A blocked worker keeps its processor: leave one for the rest.
		if procs, want := runtime.GOMAXPROCS(0), s.cfg.UDPWorkers+1; procs < want {
			runtime.GOMAXPROCS(want)
			s.log.Info("dns raised GOMAXPROCS so that blocking UDP workers leave a processor for the rest", "from", procs, "to", want)
		}
	}
	s.udpAddr, s.tcpAddr = udp[0].LocalAddr(), tcp.Addr()
	// Background builds end with Run: a refine is cancelled, and Run
	// returns after it and the re-signing have stopped.
	var resignWG sync.WaitGroup
	defer func() {
		s.endRefines()
		resignWG.Wait()
		s.refining.Wait()
	}()
	if s.signing != nil {
		resignWG.Go(func() { s.resignLoop(ctx) })
	}
	var stop atomic.Bool
	var udpWG sync.WaitGroup
	for _, c := range udp {
		w := s.newWorker()
		w.r.local = addrPort(c.LocalAddr())
		if wildcard(c.LocalAddr()) {
			w.usePktinfo()
		}
		udpWG.Go(func() { c.serve(s, w, &stop) })
	}
	stopUDP := func() {
		stop.Store(true)
		for _, c := range udp {
			c.interrupt()
		}
		udpWG.Wait()
		for _, c := range udp {
			c.Close()
		}
	}
	tcpSrv := s.newTCPServer(tcp)
	var tcpWG, clockWG sync.WaitGroup
	tcpWG.Go(tcpSrv.serve)
	clockWG.Go(func() { s.clock.run(ctx) })
	var watchWG sync.WaitGroup
	defer watchWG.Wait()
	if s.geoip != nil && s.cfg.GeoIPReloadInterval > 0 {
		watchWG.Go(func() { s.watchGeoIP(ctx, s.cfg.GeoIPReloadInterval) })
	}
	if s.geoip != nil {
		watchWG.Go(func() { s.adoptFirstRead(ctx) })
	}
	s.rrl.logConfig(s.log)
	logBackgroundClass(s.log)
	close(s.ready)
	s.log.Info("dns serving", "udp", s.udpAddr.String(), "tcp", s.tcpAddr.String(), "udp_workers", len(udp), "udp_mode", s.cfg.UDPMode.String(), "udp_blocking", blocking)
	<-ctx.Done()
	s.endRefines() // a reload waiting behind a refine need not wait out its build
	if s.geoip != nil {
		s.geoip.stop() // a first read not done yet
	}
	stopUDP()
	tcpSrv.close()
	tcpWG.Wait()
	clockWG.Wait()
	return nil
}
