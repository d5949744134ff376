package dnsgslb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// ReloadGeoIP reads the GeoIP database file again and serves the snapshot
// compiled with it: the new database and prefix table are built beside
// the ones served, which answer until the new index is swapped in at once.
// A newer snapshot refused only because the database could not be read
// (the controller's, or the one persisted) is the one compiled and served.
// A file that cannot be read, is no database, has no networks, places
// none (an ASN database), changes while it is read, or with which the
// snapshot does not compile, changes nothing: the server keeps the
// database and index it has, and the error, also logged, says why. A
// reload stopped by ctx is neither logged nor counted as refused. A
// server without a GeoIP database has nothing to reload.
func (s *Server) ReloadGeoIP(ctx context.Context) error {
	if s.geoip == nil {
		return errors.New("dnsgslb: no GeoIP database to reload: the server runs without one")
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	tried := s.geoIPFile
	restoreGC := collectTightly()
	err := s.reloadGeoIPLocked(ctx)
	restoreGC()
	g := s.geoip
	if err != nil && ctx.Err() != nil {
		// Stopped, not refused: the file was not judged, so it is not
		// counted, and the watcher tries it again.
		s.geoIPFile = tried
		return err
	}
	// Logged before counted: whoever sees the count finds the log.
	if err != nil {
		s.log.Error("dns keeps the GeoIP database it has: the file cannot replace it", "path", g.path, "err", err)
		g.failing.Store(true)
		g.failures.Add(1)
		return err
	}
	db, _ := g.current()
	v4, v6 := db.Networks()
	s.log.Info("dns reloaded the GeoIP database", "path", g.path, "ipv4_networks", v4, "ipv6_networks", v6, "took", time.Since(start).Round(time.Millisecond))
	g.loaded.Store(time.Now().UnixNano())
	g.failing.Store(false)
	g.reloads.Add(1)
	// The old database, table and index are garbage: their memory goes
	// back to the system now rather than over the minutes the runtime
	// takes by itself.
	debug.FreeOSMemory()
	return nil
}

// reloadGeoIPLocked is ReloadGeoIP; the caller holds reloadMu.
func (s *Server) reloadGeoIPLocked(ctx context.Context) error {
	g := s.geoip
	// The first read must have ended (its outcome does not matter), so
	// that it cannot overwrite what this one serves.
	if _, err := g.wait(ctx, false); err != nil && ctx.Err() != nil {
		return err
	}
	s.geoIPFile, _ = statFile(g.path)
	id, err := geo.Identify(g.path)
	if err != nil {
		return err
	}
	geoIPReading()
	// Stopped with the server: a City-sized database takes seconds to
	// read, and Run waits for the reload.
	db, err := readGeoIP(ctx, g.path, id, false)
	if err != nil {
		return err
	}
	s.updateMu.Lock()
	defer s.updateMu.Unlock()
	was := g.set(db, id)
	if err := s.serveDatabaseLocked(ctx); err != nil {
		g.restore(was)
		return err
	}
	return nil
}

// adoptFirstRead waits for the first read of the database to end, and
// when it read one while a persisted table of another placed clients
// (geoIP.standIn), serves the snapshot compiled with it: its table is
// built beside the one served, as a reload builds one.
func (s *Server) adoptFirstRead(ctx context.Context) {
	g := s.geoip
	select {
	case <-g.done:
	case <-ctx.Done():
		return
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.updateMu.Lock()
	defer s.updateMu.Unlock()
	db, id := g.current()
	ix := s.index.Load()
	if db == nil || ix == nil || ix.Table().DBID() == id {
		return
	}
	start := time.Now()
	restoreGC := collectTightly()
	err := s.serveDatabaseLocked(ctx)
	restoreGC()
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("dns keeps placing clients by the persisted prefix table of the GeoIP database read before: the snapshot does not compile with the one read", "path", g.path, "err", err)
	case err == nil:
		s.log.Info("dns places clients by the GeoIP database read at start", "path", g.path, "took", time.Since(start).Round(time.Millisecond))
		debug.FreeOSMemory()
	}
}

// serveDatabaseLocked compiles the snapshot with the database geoIP
// serves now, swaps it in and persists what changed. The caller holds
// updateMu.
func (s *Server) serveDatabaseLocked(ctx context.Context) error {
	g := s.geoip
	// A snapshot that waits for a database to be read is newer than the
	// one served.
	snap := s.snap
	if s.waiting != nil {
		snap = s.waiting
	}
	if snap == nil {
		return nil
	}
	if err := s.swap(ctx, snap, nil); err != nil {
		return fmt.Errorf("snapshot revision %d with GeoIP database %q: %w", snap.GetRevision(), g.path, err)
	}
	waited := snap == s.waiting
	if waited {
		s.waiting = nil
		s.metrics.persistedRefused.Store(false)
		s.metrics.rejected.Store(false)
		s.log.Info("dns serves the snapshot that waited for the GeoIP database", "revision", snap.GetRevision())
	}
	if s.cfg.StateDir == "" {
		return nil
	}
	if waited {
		err := InBackground(func() error { return saveSnapshot(s.cfg.StateDir, snap) })
		s.metrics.notPersisted.Store(err != nil)
		if err != nil {
			s.log.Warn("dns: cannot persist the snapshot served; the next start serves the one persisted before", "revision", snap.GetRevision(), "err", err)
		}
	}
	if err := s.saveTableLocked(); err != nil {
		s.log.Warn("dns: cannot persist the prefix table of the reloaded GeoIP database; the next start builds it again", "err", err)
	}
	return nil
}

// geoIPReading is called by a reload before it reads the database; a
// test ends the reload's context then.
var geoIPReading = func() {}

// fileState is what tells a file changed: its size and modification time.
type fileState struct {
	size  int64
	mtime time.Time
}

func statFile(path string) (fileState, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileState{}, err
	}
	return fileState{fi.Size(), fi.ModTime()}, nil
}

// watchGeoIP checks the GeoIP file every interval until ctx ends, and
// reloads it once a change has held for one interval, so that a file
// being copied in place is read whole. A file that failed is tried again
// when it changes again (or on an explicit ReloadGeoIP).
func (s *Server) watchGeoIP(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var pending fileState
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := statFile(s.geoip.path)
		if err != nil {
			continue // e.g. between an unlink and a rename
		}
		s.reloadMu.Lock()
		last := s.geoIPFile
		s.reloadMu.Unlock()
		switch {
		case cur == last:
			pending = fileState{}
		case cur != pending:
			pending = cur
		default:
			pending = fileState{}
			s.ReloadGeoIP(ctx)
		}
	}
}

var (
	geoIPReloadsDesc  = prometheus.NewDesc("anyctl_dns_geoip_reloads_total", "GeoIP database reloads that took effect.", nil, nil)
	geoIPFailuresDesc = prometheus.NewDesc("anyctl_dns_geoip_reload_failures_total", "GeoIP database reads refused, at start or by a reload (the file cannot be read or used); the database served, if any, stays.", nil, nil)
	geoIPFailingDesc  = prometheus.NewDesc("anyctl_dns_geoip_reload_failing", "1 when the last read of the GeoIP database, at start or by a reload, was refused.", nil, nil)
	geoIPLoadedDesc   = prometheus.NewDesc("anyctl_dns_geoip_last_success_timestamp_seconds", "When the GeoIP database served was read, at start or by a reload.", nil, nil)
)

// Describe implements prometheus.Collector.
func (g *geoIP) Describe(ch chan<- *prometheus.Desc) {
	ch <- geoIPReloadsDesc
	ch <- geoIPFailuresDesc
	ch <- geoIPFailingDesc
	ch <- geoIPLoadedDesc
}

// Collect implements prometheus.Collector.
func (g *geoIP) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(geoIPReloadsDesc, prometheus.CounterValue, float64(g.reloads.Load()))
	ch <- prometheus.MustNewConstMetric(geoIPFailuresDesc, prometheus.CounterValue, float64(g.failures.Load()))
	failing := 0.0
	if g.failing.Load() {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(geoIPFailingDesc, prometheus.GaugeValue, failing)
	if at := g.loaded.Load(); at != 0 {
		ch <- prometheus.MustNewConstMetric(geoIPLoadedDesc, prometheus.GaugeValue, float64(at)/1e9)
	}
}
