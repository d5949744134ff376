package geo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Identify names the GeoIP database at path without reading its networks:
// the name changes when the file is replaced or rewritten. It is the ID the
// DB read from the file will have, so that a prefix table persisted from it
// can be found again at start-up before the database is read.
func Identify(path string) (id string, err error) {
	err = readMapped(path, func() error {
		r, err := maxminddb.Open(path)
		if err != nil {
			return fmt.Errorf("open GeoIP database %q: %w", path, err)
		}
		defer r.Close()
		id, err = identify(path, r)
		return err
	})
	return id, err
}

func identify(path string, r *maxminddb.Reader) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("GeoIP database %q: %w", path, err)
	}
	m := r.Metadata
	return digest(fmt.Sprintf("mmdb size=%d mtime=%d type=%s epoch=%d nodes=%d",
		fi.Size(), fi.ModTime().UnixNano(), m.DatabaseType, m.BuildEpoch, m.NodeCount)), nil
}

// buildVersion changes when Build makes another table of the same inputs,
// so that a table file a former Build persisted is not mapped in place of
// the table this one makes. 2: IPv4-mapped PoP networks ordered by their
// IPv4 length, records that say nowhere at the default location. 3: the
// PoPs' classes numbered by name.
const buildVersion = 3

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// ID names the database's content; the empty database (nil) is "none".
func (db *DB) ID() string {
	if db == nil {
		return "none"
	}
	return db.id
}

// TableKey names the prefix table Build makes from a database (by ID),
// the PoPs' networks in the order given, and the default location: equal
// keys, equal tables.
func TableKey(dbID string, pops []PopNetwork, def Location) string {
	s := fmt.Sprintf("build=%d db=%s default=%+v", buildVersion, dbID, def)
	for _, p := range pops {
		s += fmt.Sprintf(" %s=%s@%+v", p.Prefix, p.Pop, p.Location)
	}
	return digest(s)
}
