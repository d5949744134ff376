package dnsgslb

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// geoIP is a server's GeoIP database: named at once (geo.Identify), read in
// full in the background, at a low priority, once started. A City-sized
// database takes seconds to read, and a server that restarts with its
// prefix table on disk does not need it to answer: only a change of the
// PoPs' networks or of the default location does. Reload replaces it (see
// Server.ReloadGeoIP).
type geoIP struct {
	path  string
	log   *slog.Logger
	start sync.Once
	done  chan struct{} // closed once the first read ended
	// reading is the first read's context; stop ends it, when the server
	// it is read for will not serve (a start cut short, Run ended).
	reading context.Context
	stop    context.CancelFunc

	mu sync.Mutex // guards id, db, err, standIn
	// id names the database served (geo.Identify); db is it once read, err
	// why it could not be.
	id  string
	db  *geo.DB
	err error
	// standIn names the database a persisted prefix table was built
	// from when the file now holds another, or none that can be named:
	// until a database is read, snapshots are compiled with that table,
	// so that a restart after the file changed answers at once, as
	// placed before, and a file that cannot be read keeps that placement.
	standIn string

	// loaded is when the database served was read, in Unix nanoseconds;
	// reloads counts Server.ReloadGeoIP's successes, failures the reads
	// refused (the first, or a reload's).
	loaded, reloads, failures atomic.Int64
	// failing is set while the last read (the first, or a reload's)
	// failed.
	failing atomic.Bool
}

// openGeoIP names the database at path. It fails at once on a file that is
// not a database.
func openGeoIP(path string, log *slog.Logger) (*geoIP, error) {
	id, err := geo.Identify(path)
	if err != nil {
		return nil, err
	}
	reading, stop := context.WithCancel(context.Background())
	return &geoIP{path: path, id: id, log: log, done: make(chan struct{}), reading: reading, stop: stop}, nil
}

// unreadGeoIP is the database at path that could not be named: err says
// why. Its first read has ended, refused; a reload reads the file again.
func unreadGeoIP(path string, err error, log *slog.Logger) *geoIP {
	g := &geoIP{path: path, log: log, err: err, done: make(chan struct{}), reading: context.Background(), stop: func() {}}
	g.start.Do(func() { close(g.done) })
	g.failures.Add(1)
	g.failing.Store(true)
	return g
}

// geoIPNamed is called by New once it has named the GeoIP database; a
// test replaces the file then.
var geoIPNamed = func() {}

// geoIPFirstRead is called as the first read of the database starts; a
// test holds it there. geoIPFirstReadEnded is called with how it ended.
var (
	geoIPFirstRead      = func() {}
	geoIPFirstReadEnded = func(error) {}
)

// read starts reading the database, once: at the machine's normal
// priority when urgent (the server answers from no index until it has the
// database, so there is nothing for the read to give way to), else in the
// background (InBackground).
func (g *geoIP) read(urgent bool) { g.start.Do(func() { go g.readAll(urgent) }) }

func (g *geoIP) readAll(urgent bool) {
	defer close(g.done)
	geoIPFirstRead()
	g.mu.Lock()
	id := g.id
	g.mu.Unlock()
	start := time.Now()
	db, err := readGeoIP(g.reading, g.path, id, urgent)
	defer geoIPFirstReadEnded(err)
	g.mu.Lock()
	g.db, g.err = db, err
	g.mu.Unlock()
	if err != nil && g.reading.Err() != nil {
		g.log.Info("dns stopped reading the GeoIP database: the server stopped", "path", g.path)
		return
	}
	if err != nil {
		g.failures.Add(1)
		g.failing.Store(true)
		g.log.Error("dns cannot read the GeoIP database; snapshots that need a new prefix table fail until it is reloaded", "path", g.path, "err", err)
		return
	}
	v4, v6 := db.Networks()
	g.loaded.Store(time.Now().UnixNano())
	g.log.Info("dns read the GeoIP database", "path", g.path, "ipv4_networks", v4, "ipv6_networks", v6, "took", time.Since(start).Round(time.Millisecond))
}

// readGeoIP reads the database at path until ctx ends, in the background
// at a low priority unless urgent; id is what geo.Identify named it
// before: a file replaced while it was read is refused.
func readGeoIP(ctx context.Context, path, id string, urgent bool) (*geo.DB, error) {
	type read struct {
		db  *geo.DB
		err error
	}
	r := inBackgroundUnless(urgent, func() read {
		db, err := geo.OpenDBContext(ctx, path)
		return read{db, err}
	})
	if r.err != nil {
		return nil, r.err
	}
	if r.db.ID() != id {
		return nil, fmt.Errorf("GeoIP database %q changed while it was read", path)
	}
	if v4, v6 := r.db.Networks(); v4+v6 == 0 {
		return nil, fmt.Errorf("GeoIP database %q has no networks", path)
	}
	return r.db, nil
}

// current returns the database if it has been read (else nil) and its ID:
// while none is read and a persisted table stands in, that table's.
func (g *geoIP) current() (*geo.DB, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.db == nil && g.standIn != "" {
		return nil, g.standIn
	}
	return g.db, g.id
}

// standInFor lets the persisted table t place clients while no database
// is read, when it was built from a database other than the file's. It
// reports whether it does.
func (g *geoIP) standInFor(t *geo.Table) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t == nil || g.db != nil || t.DBID() == "" || t.DBID() == g.id {
		return false
	}
	g.standIn = t.DBID()
	return true
}

// geoIPState is what a geoIP serves.
type geoIPState struct {
	id  string
	db  *geo.DB
	err error
}

// set serves db, named id, from now on and returns what was served.
func (g *geoIP) set(db *geo.DB, id string) geoIPState {
	g.mu.Lock()
	defer g.mu.Unlock()
	was := geoIPState{g.id, g.db, g.err}
	g.db, g.id, g.err = db, id, nil
	return was
}

// restore serves st again.
func (g *geoIP) restore(st geoIPState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.id, g.db, g.err = st.id, st.db, st.err
}

// wait starts reading the database if need be (urgent as for read) and
// returns it once read.
func (g *geoIP) wait(ctx context.Context, urgent bool) (*geo.DB, error) {
	g.read(urgent)
	select {
	case <-g.done:
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.db, g.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
