package dnsgslb

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// geoIP is a server's GeoIP database: named at once (geo.Identify), read in
// full in the background, at a low priority, once started. A City-sized
// database takes seconds to read, and a server that restarts with its
// prefix table on disk does not need it to answer: only a change of the
// PoPs' networks or of the default location does.
type geoIP struct {
	path  string
	id    string
	log   *slog.Logger
	start sync.Once
	done  chan struct{}
	// db and err are set before done is closed.
	db  *geo.DB
	err error
}

// openGeoIP names the database at path. It fails at once on a file that is
// not a database.
func openGeoIP(path string, log *slog.Logger) (*geoIP, error) {
	id, err := geo.Identify(path)
	if err != nil {
		return nil, err
	}
	return &geoIP{path: path, id: id, log: log, done: make(chan struct{})}, nil
}

// read starts reading the database, once.
func (g *geoIP) read() { g.start.Do(func() { go g.readAll() }) }

func (g *geoIP) readAll() {
	path, id, log := g.path, g.id, g.log
	func() {
		defer close(g.done)
		start := time.Now()
		type read struct {
			db  *geo.DB
			err error
		}
		r := inBackground(func() read {
			db, err := geo.OpenDB(path)
			return read{db, err}
		})
		g.db, g.err = r.db, r.err
		if g.err == nil && g.db.ID() != id {
			g.db, g.err = nil, fmt.Errorf("GeoIP database %q changed while it was read: restart to read the new one", path)
		}
		if g.err != nil {
			log.Error("dns cannot read the GeoIP database; snapshots that need a new prefix table fail", "path", path, "err", g.err)
			return
		}
		v4, v6 := g.db.Networks()
		log.Info("dns read the GeoIP database", "path", path, "ipv4_networks", v4, "ipv6_networks", v6, "took", time.Since(start).Round(time.Millisecond))
	}()
}

// ready returns the database if it has been read, else nil.
func (g *geoIP) ready() *geo.DB {
	select {
	case <-g.done:
		return g.db
	default:
		return nil
	}
}

// wait starts reading the database if need be and returns it once read.
func (g *geoIP) wait(ctx context.Context) (*geo.DB, error) {
	g.read()
	select {
	case <-g.done:
		return g.db, g.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
