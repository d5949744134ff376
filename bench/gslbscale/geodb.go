package gslbscale

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// buildEpoch is the fixed build time written into every generated
// database, so the same parameters give the same file.
const buildEpoch = 1767225600 // 2026-01-01T00:00:00Z

// GeoDB writes to path a GeoIP2-City-shaped database of the given number of
// networks (80% IPv4, mostly /18 to /24, laid out over the IPv4 unicast
// space by registry; 20% IPv6, /32 to /64 in the registries' /12s) naming
// the given number of distinct locations (cities with coordinates,
// subdivision, postal code and time zone, and one country-only record per
// country) clustered in ~200 countries of 7 continents. The file is written
// to a temporary name and renamed into place.
func GeoDB(path string, networks, locations int, seed uint64) error {
	p, err := newPlan(networks, locations, seed)
	if err != nil {
		return fmt.Errorf("GeoIP database %q: %w", path, err)
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		BuildEpoch:   buildEpoch,
		DatabaseType: "GeoIP2-City",
		Description:  map[string]string{"en": fmt.Sprintf("anyctl benchmark City database: %d networks, %d locations, seed %d", networks, locations, seed)},
		Languages:    []string{"en"},
		RecordSize:   28,
		// Every record is one of the locations: key them by their
		// GeoNames IDs instead of hashing each inserted value.
		KeyGenerator: &geonameKey{},
	})
	if err != nil {
		return fmt.Errorf("GeoIP database %q: new mmdb tree: %w", path, err)
	}
	ipnet := &net.IPNet{}
	err = p.each(func(pfx netip.Prefix, loc int32) error {
		ipnet.IP = pfx.Addr().AsSlice()
		ipnet.Mask = net.CIDRMask(pfx.Bits(), pfx.Addr().BitLen())
		if err := tree.Insert(ipnet, p.places.recs[loc]); err != nil {
			return fmt.Errorf("insert network %s: %w", pfx, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("GeoIP database %q: %w", path, err)
	}
	if err := writeAtomic(path, tree); err != nil {
		return fmt.Errorf("GeoIP database %q: %w", path, err)
	}
	return nil
}

// writeAtomic writes the tree to a temporary file beside path, then renames
// it over path.
func writeAtomic(path string, tree *mmdbwriter.Tree) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := tree.WriteTo(w); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", tmp, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %q to %q: %w", tmp, path, err)
	}
	return nil
}

// geonameKey keys a location record by its city's GeoNames ID, or its
// country's for a country-only record: unique for the records GeoDB makes.
type geonameKey struct{ buf [5]byte }

func (k *geonameKey) Key(v mmdbtype.DataType) ([]byte, error) {
	m, ok := v.(mmdbtype.Map)
	if !ok {
		return nil, fmt.Errorf("key of a %T: want a location record (map)", v)
	}
	tag, field := byte('c'), m["city"]
	if field == nil {
		tag, field = 'k', m["country"]
	}
	sub, _ := field.(mmdbtype.Map)
	id, ok := sub["geoname_id"].(mmdbtype.Uint32)
	if !ok {
		return nil, fmt.Errorf("key of a location record: no city or country geoname_id")
	}
	k.buf[0] = tag
	binary.BigEndian.PutUint32(k.buf[1:], uint32(id))
	return k.buf[:], nil
}
