package geo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is a GeoIP database decoded once: its networks in address order, each
// naming a class. Building a Table from it decodes nothing.
type DB struct {
	v4, v6  []span
	classes []Class
	// unplaced are the classes of records with neither coordinates nor a
	// continent: Build gives them the default location's coordinates.
	unplaced []int32
	// id names the content (see ID).
	id string
}

// mmdbRecord is the part of a City or Country record that steering uses.
type mmdbRecord struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// continentCentre gives Country databases, which have no coordinates, a
// point to measure distance from.
var continentCentre = map[string][2]float64{
	"AF": {1.6, 17.3}, "AN": {-80, 0}, "AS": {34, 100}, "EU": {50, 10},
	"NA": {40, -100}, "OC": {-25, 140}, "SA": {-15, -60},
}

// OpenDB reads every network of the mmdb file at path. A file that
// changes while it is read (one written in place) is an error.
func OpenDB(path string) (db *DB, err error) {
	return OpenDBContext(context.Background(), path)
}

// OpenDBContext is OpenDB that stops reading, with ctx's error, once ctx
// ends: a City-sized database takes seconds to read.
func OpenDBContext(ctx context.Context, path string) (db *DB, err error) {
	err = readMapped(path, func() error {
		db, err = openDB(ctx, path)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db, nil
}

func openDB(ctx context.Context, path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database %q: %w", path, err)
	}
	defer r.Close()
	id, err := identify(path, r)
	if err != nil {
		return nil, err
	}
	db, err := readDB(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("read GeoIP database %q: %w", path, err)
	}
	if after, err := identify(path, r); err != nil || after != id {
		return nil, fmt.Errorf("GeoIP database %q changed while it was read", path)
	}
	if len(db.v4)+len(db.v6) > 0 && len(db.unplaced) == len(db.classes) {
		return nil, fmt.Errorf("GeoIP database %q (type %q) places no network: none has coordinates or a continent; use a City or Country database (GeoIP2 or GeoLite2), not an ASN or ISP one",
			path, r.Metadata.DatabaseType)
	}
	db.id = id
	return db, nil
}

// OpenDBBytes reads every network of an mmdb image held in memory.
func OpenDBBytes(b []byte) (*DB, error) {
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database: %w", err)
	}
	db, err := readDB(context.Background(), r)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	db.id = hex.EncodeToString(sum[:16])
	return db, nil
}

// readDB reads every network of r, looking at ctx every
// ctxEvery networks.
func readDB(ctx context.Context, r *maxminddb.Reader) (*DB, error) {
	db := &DB{}
	n := 0
	byOffset := map[uintptr]int32{}
	type place struct {
		loc    Location
		placed bool
	}
	byLoc := map[place]int32{}
	var v4, v6 chunks
	for res := range r.Networks() {
		if err := res.Err(); err != nil {
			return nil, err
		}
		if n%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		n++
		class, ok := byOffset[res.Offset()]
		if !ok {
			var rec mmdbRecord
			if err := res.Decode(&rec); err != nil {
				return nil, fmt.Errorf("decode record of %s: %w", res.Prefix(), err)
			}
			loc, placed := recordLocation(rec)
			if class, ok = byLoc[place{loc, placed}]; !ok {
				class = int32(len(db.classes))
				db.classes = append(db.classes, Class{Location: loc, Source: "geoip"})
				byLoc[place{loc, placed}] = class
				if !placed {
					db.unplaced = append(db.unplaced, class)
				}
			}
			byOffset[res.Offset()] = class
		}
		p := res.Prefix()
		s := span{start: fromAddr(p.Addr()), bits: p.Bits(), class: class}
		if p.Addr().Is4() {
			v4.add(s)
		} else {
			v6.add(s)
		}
	}
	db.v4, db.v6 = v4.join(), v6.join()
	byStart := func(a, b span) int {
		if a.start == b.start {
			return cmp.Compare(a.bits, b.bits)
		}
		if a.start.less(b.start) {
			return -1
		}
		return 1
	}
	slices.SortFunc(db.v4, byStart)
	slices.SortFunc(db.v6, byStart)
	return db, nil
}

// ctxEvery is how many networks readDB reads between looks at its
// context: a few milliseconds' worth.
const ctxEvery = 1 << 12

// chunks collects spans without regrowing one slice: a City database has
// millions of networks, and copying a slice that large both costs time and
// keeps the garbage collector waiting on the goroutine copying it.
type chunks struct {
	full [][]span
	last []span
}

const chunkLen = 1 << 16

func (c *chunks) add(s span) {
	if len(c.last) == cap(c.last) {
		if c.last != nil {
			c.full = append(c.full, c.last)
		}
		c.last = make([]span, 0, chunkLen)
	}
	c.last = append(c.last, s)
}

// join returns the spans in one slice of their size.
func (c *chunks) join() []span {
	out := make([]span, 0, len(c.full)*chunkLen+len(c.last))
	for _, ch := range c.full {
		out = append(out, ch...)
	}
	return append(out, c.last...)
}

// recordLocation is where a record places its clients; placed is false
// when it has neither coordinates nor a continent to give them.
func recordLocation(rec mmdbRecord) (loc Location, placed bool) {
	loc = Location{
		Country:   rec.Country.ISOCode,
		Continent: rec.Continent.Code,
		City:      rec.City.Names["en"],
	}
	if loc.Country == "" {
		loc.Country = rec.RegisteredCountry.ISOCode
	}
	if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
		loc.Latitude, loc.Longitude = *rec.Location.Latitude, *rec.Location.Longitude
	} else if c, ok := continentCentre[loc.Continent]; ok {
		loc.Latitude, loc.Longitude = c[0], c[1]
	} else {
		return loc, false
	}
	return loc, true
}

// Networks is the number of networks read, per family.
func (db *DB) Networks() (v4, v6 int) { return len(db.v4), len(db.v6) }
