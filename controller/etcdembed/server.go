// Package etcdembed runs a single-member etcd inside the controller's process:
// the default store of a small installation, of `anyctl dev` and of tests.
//
// The member listens on loopback only. Its two ports (client and peer) are
// chosen free on first start and kept in DIR/etcd-ports.json, so two
// controllers on one machine never collide and a restart on the same data
// directory listens where it did before. When a kept port is busy at restart
// a new one is chosen; a changed peer port is written back into the member's
// own record in the cluster, which etcd would otherwise keep stale (etcd
// reads its peer URLs from the data directory on restart, not from flags).
// A member locks DIR/anyctl.lock (LockFile) first, with its PID in it, so
// that a second one on the same directory is refused at once, naming the
// process that holds it, instead of blocking in etcd's own file locks.
// Data dirs etcd would panic on (too little space for its WAL, an empty WAL
// file, a database bbolt cannot open) are refused before etcd opens them,
// naming the file and what to do, and the start honours its context.
//
// Limits differ from etcd's defaults so that one apply of a thousand objects
// fits in one transaction: MaxTxnOps operations and MaxRequestBytes bytes per
// request. An external cluster used for large applies needs the same raised
// with --max-txn-ops and --max-request-bytes. History is compacted
// periodically, keeping CompactionRetention: a watcher that falls further
// behind than that must list again. The backend is capped at QuotaBytes,
// and defragmented when compaction has freed much of it (maintain.go), which
// also clears a NOSPACE alarm once there is room again.
package etcdembed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

const (
	// MaxTxnOps is the most operations one transaction may hold (etcd's
	// default is 128).
	MaxTxnOps = 10000
	// MaxRequestBytes is the largest request the member accepts (etcd's
	// default is 1.5 MiB; 10 MiB is the most etcd recommends).
	MaxRequestBytes = 10 << 20
	// QuotaBytes caps the backend database: etcd's default, stated here
	// so that it is a decision. Desired state and the fleet's reports are
	// small (tens of MiB at 10,000 PoPs); reaching the quota raises etcd's
	// NOSPACE alarm, after which every write fails until it is cleared.
	QuotaBytes = 2 << 30
	// CompactionRetention is how much history the periodic auto-compaction
	// keeps (it compacts every CompactionRetention): enough for a watcher
	// that reconnects to resume, short enough that the old revisions of a
	// busy fleet do not pile up.
	CompactionRetention = 10 * time.Minute

	memberName   = "anyctl"
	clusterToken = "anyctl"
	// grpcOverheadBytes is what etcd allows on top of MaxRequestBytes for
	// the gRPC envelope; the client may send up to the sum.
	grpcOverheadBytes = 512 << 10
	// tickMs and electionMs are a tenth of etcd's defaults: a single member
	// has no peer to wait for or to lose to, and the member is ready about
	// ten times sooner.
	tickMs     = 10
	electionMs = 100
	// startAttempts bounds retries when a port chosen free is taken before
	// etcd binds it.
	startAttempts = 3
)

// Config configures an embedded etcd member.
type Config struct {
	// Dir is the data directory: etcd's member/ directory and PortsFile.
	Dir string
	// Logger receives etcd's warnings and errors; nil means slog.Default().
	Logger *slog.Logger
	// StartTimeout bounds the wait for the member to serve; 0 means 30s.
	StartTimeout time.Duration
	// UnsafeNoFsync skips fsync on every write. A crash can lose or corrupt
	// data: for tests only.
	UnsafeNoFsync bool
	// QuotaBytes caps the database; 0 means QuotaBytes.
	QuotaBytes int64
	// CompactionRetention is the history auto-compaction keeps; 0 means
	// CompactionRetention.
	CompactionRetention time.Duration
	// MaintainEvery is how often the database is looked at for
	// defragmentation and a NOSPACE alarm to clear; 0 means
	// DefragCheckEvery.
	MaintainEvery time.Duration
}

// Server is a running embedded etcd member.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
	zl        *zap.Logger
	stopping  *atomic.Bool // set by Close; quiets etcd's shutdown noise
	lock      *dirLock     // holds LockFile until the member has stopped
	closeOnce sync.Once
	// stopMaintain stops maintain and waits for it.
	stopMaintain func()
}

// Start starts the member and returns once it serves requests, ctx is done or
// Config.StartTimeout passes.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("etcdembed: Config.Dir is empty; set it to the directory etcd keeps its data in")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if cfg.QuotaBytes == 0 {
		cfg.QuotaBytes = QuotaBytes
	}
	if cfg.CompactionRetention == 0 {
		cfg.CompactionRetention = CompactionRetention
	}
	if cfg.MaintainEvery == 0 {
		cfg.MaintainEvery = DefragCheckEvery
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcdembed: data directory: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("etcdembed: %w", err)
	}
	if err := precheck(cfg.Dir); err != nil {
		lock.release()
		return nil, fmt.Errorf("etcdembed: %w", err)
	}
	s, err := start(ctx, cfg, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	s.lock = lock
	cli, err := s.Client()
	if err != nil {
		s.Close()
		return nil, err
	}
	mctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cli.Close()
		s.maintain(mctx, cli, cfg.Logger, cfg.QuotaBytes, cfg.MaintainEvery)
	}()
	s.stopMaintain = func() { cancel(); <-done }
	return s, nil
}

// start is Start once the data directory is locked.
func start(ctx context.Context, cfg Config, lock *dirLock) (*Server, error) {
	saved, err := loadPorts(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("etcdembed: %w", err)
	}
	_, statErr := os.Stat(filepath.Join(cfg.Dir, "member"))
	existing := statErr == nil
	stopping := new(atomic.Bool)
	zl := newZapLogger(cfg.Logger, stopping)

	var e *embed.Etcd
	var p ports
	for attempt := 1; ; attempt++ {
		if p, err = choosePorts(saved); err != nil {
			return nil, fmt.Errorf("etcdembed: %w", err)
		}
		e, err = startMember(ctx, cfg, p, zl, lock)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == startAttempts {
			return nil, fmt.Errorf("etcdembed: start etcd in %q: %w", cfg.Dir, err)
		}
		// Someone took a port between choosing and binding: choose again.
	}

	clientURL := loopbackURL(p.Client)
	s := &Server{etcd: e, endpoints: []string{clientURL.String()}, zl: zl, stopping: stopping}
	if existing {
		old, err := s.fixPeerURL(ctx, p.Peer)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("etcdembed: %w", err)
		}
		if old != nil {
			cfg.Logger.Warn("etcd peer port changed; updated the member's peer URL",
				"dir", cfg.Dir, "old", old, "new", p.Peer)
		}
	}
	if p != saved {
		if err := savePorts(cfg.Dir, p); err != nil {
			s.Close()
			return nil, fmt.Errorf("etcdembed: %w", err)
		}
	}
	return s, nil
}

// startMember starts etcd on the ports and waits until it serves, the
// context ends or cfg.StartTimeout passes, whichever is first: etcd's own
// start, which can hang on a damaged WAL, runs in the background, and a
// panic in it is returned as an error. A start given up on is stopped in
// the background, holding lock (which may be nil) until it has.
func startMember(ctx context.Context, cfg Config, p ports, zl *zap.Logger, lock *dirLock) (*embed.Etcd, error) {
	ec := embed.NewConfig()
	ec.Name = memberName
	ec.Dir = cfg.Dir
	client, peer := loopbackURL(p.Client), loopbackURL(p.Peer)
	ec.ListenClientUrls = []url.URL{client}
	ec.AdvertiseClientUrls = []url.URL{client}
	ec.ListenPeerUrls = []url.URL{peer}
	ec.AdvertisePeerUrls = []url.URL{peer}
	ec.InitialCluster = memberName + "=" + peer.String()
	ec.InitialClusterToken = clusterToken
	ec.TickMs = tickMs
	ec.ElectionMs = electionMs
	ec.MaxTxnOps = MaxTxnOps
	ec.MaxRequestBytes = MaxRequestBytes
	ec.QuotaBackendBytes = cfg.QuotaBytes
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = cfg.CompactionRetention.String()
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	ec.Logger = "zap"
	ec.LogLevel = "warn"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zl)

	type result struct {
		e   *embed.Etcd
		err error
	}
	started := make(chan result, 1)
	lock.hold()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				started <- result{err: fmt.Errorf("etcd failed starting from %q (panic: %v): %s", cfg.Dir, r, restoreAdvice)}
			}
		}()
		e, err := embed.StartEtcd(ec)
		started <- result{e, err}
	}()
	// abandon stops etcd in the background; e is nil while it is starting.
	abandon := func(e *embed.Etcd) {
		go func() {
			defer lock.done()
			if e == nil {
				e = (<-started).e
			}
			if e != nil {
				e.Close()
			}
		}()
	}
	notReady := func() error {
		return fmt.Errorf("not ready after %s: if etcd's log above names no other cause, %s", cfg.StartTimeout, restoreAdvice)
	}

	timer := time.NewTimer(cfg.StartTimeout)
	defer timer.Stop()
	var e *embed.Etcd
	select {
	case r := <-started:
		if r.err != nil {
			lock.done()
			return nil, r.err
		}
		e = r.e
	case <-ctx.Done():
		abandon(nil)
		return nil, ctx.Err()
	case <-timer.C:
		abandon(nil)
		return nil, notReady()
	}
	select {
	case <-e.Server.ReadyNotify():
		lock.done()
		return e, nil
	case err := <-e.Err():
		abandon(e)
		return nil, err
	case <-ctx.Done():
		abandon(e)
		return nil, ctx.Err()
	case <-timer.C:
		abandon(e)
		return nil, notReady()
	}
}

// fixPeerURL points the member's record at its peer port when it names
// another one, and returns the peer URLs it replaced (nil when none).
func (s *Server) fixPeerURL(ctx context.Context, port int) ([]string, error) {
	u := loopbackURL(port)
	peer := u.String()
	id := uint64(s.etcd.Server.MemberID())
	cli, err := s.Client()
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	members, err := cli.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	for _, m := range members.Members {
		if m.ID != id {
			continue
		}
		if len(m.PeerURLs) == 1 && m.PeerURLs[0] == peer {
			return nil, nil
		}
		if _, err := cli.MemberUpdate(ctx, id, []string{peer}); err != nil {
			return nil, fmt.Errorf("update the peer URLs of member %x from %q to %q: %w", id, m.PeerURLs, peer, err)
		}
		return m.PeerURLs, nil
	}
	return nil, fmt.Errorf("member %x is not in its own cluster's member list", id)
}

// Client returns a new client connected to the member, allowed to send
// requests as large as the member accepts. The caller closes it, before
// closing the Server.
func (s *Server) Client() (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:          s.endpoints,
		DialTimeout:        5 * time.Second,
		MaxCallSendMsgSize: MaxRequestBytes + grpcOverheadBytes,
		Logger:             s.zl,
	})
	if err != nil {
		return nil, fmt.Errorf("etcdembed: connect to %s: %w", s.endpoints[0], err)
	}
	return cli, nil
}

// Endpoints returns the client URLs of the member.
func (s *Server) Endpoints() []string { return append([]string(nil), s.endpoints...) }

// Err reports a failure of the running member; it is how a daemon learns
// that its store died under it.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

// Close stops the member and waits until it has stopped. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopMaintain != nil {
			s.stopMaintain()
		}
		s.stopping.Store(true)
		s.etcd.Close()
		if s.lock != nil {
			s.lock.release()
		}
	})
	return nil
}

func loopbackURL(port int) url.URL {
	return url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}
}
