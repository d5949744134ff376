package gslbscale_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// scaleEnv names the environment variable that sets the benchmarks' sizes:
// "networks,locations,records,origins", e.g. "3000000,100000,5000,50".
const scaleEnv = "ANYCTL_BENCH_SCALE"

// size is a benchmark's scale.
type size struct{ networks, locations, records, origins int }

func (s size) String() string {
	return fmt.Sprintf("networks=%d/locations=%d/records=%d/origins=%d", s.networks, s.locations, s.records, s.origins)
}

// benchSize is $ANYCTL_BENCH_SCALE, or small enough for `make bench`.
func benchSize(b *testing.B) size {
	s := size{100_000, 10_000, 100, 20}
	v := os.Getenv(scaleEnv)
	if v == "" {
		return s
	}
	f := strings.Split(v, ",")
	n := make([]int, len(f))
	for i := range f {
		var err error
		if n[i], err = strconv.Atoi(strings.TrimSpace(f[i])); err != nil || len(f) != 4 {
			b.Fatalf("%s=%q: want four numbers: networks,locations,records,origins", scaleEnv, v)
		}
	}
	return size{n[0], n[1], n[2], n[3]}
}

func cachedDB(b *testing.B, s size) string {
	b.Helper()
	path, generated, err := gslbscale.CachedGeoDB(s.networks, s.locations, 1)
	if err != nil {
		b.Fatal(err)
	}
	if generated {
		b.Logf("generated %s", path)
	}
	return path
}

// BenchmarkOpenDB reads a generated City database the way the server does
// at start.
func BenchmarkOpenDB(b *testing.B) {
	s := benchSize(b)
	path := cachedDB(b, s)
	b.Run(s.String(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := geo.OpenDB(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompile compiles a generated snapshot against a generated
// database: the cost of a server's start and, for a compiler that does not
// reuse the previous index, of every update.
func BenchmarkCompile(b *testing.B) {
	s := benchSize(b)
	db, err := geo.OpenDB(cachedDB(b, s))
	if err != nil {
		b.Fatal(err)
	}
	snap := gslbscale.Snapshot(s.records, s.origins, 1)
	b.Run(s.String(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := index.Compile(snap, index.Options{GeoIP: db}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompileSigned is BenchmarkCompile unsigned and with the zone
// signed (a CSK, ECDSA P-256): every distinct answer, the NSEC chain and
// the DNSKEY RRset signed, from scratch.
func BenchmarkCompileSigned(b *testing.B) {
	s := benchSize(b)
	db, err := geo.OpenDB(cachedDB(b, s))
	if err != nil {
		b.Fatal(err)
	}
	key, err := dnssec.Generate(b.TempDir(), gslbscale.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := dnssec.NewSigner(gslbscale.Zone, []*dnssec.Key{key}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	snap := gslbscale.Snapshot(s.records, s.origins, 1)
	for _, tc := range []struct {
		name    string
		signers map[string]*dnssec.Signer
	}{{"unsigned", nil}, {"signed", map[string]*dnssec.Signer{gslbscale.Zone: signer}}} {
		b.Run(s.String()+"/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := index.Compile(snap, index.Options{GeoIP: db, Signers: tc.signers}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGeoDB writes a database, not cached: the generator's own cost.
func BenchmarkGeoDB(b *testing.B) {
	s := benchSize(b)
	path := filepath.Join(b.TempDir(), "city.mmdb")
	b.Run(s.String(), func(b *testing.B) {
		for b.Loop() {
			if err := gslbscale.GeoDB(path, s.networks, s.locations, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecompileTTLChange compiles a generated snapshot with one
// record's TTL changed and the next revision (the zone's SOA serial with
// it), the previous index given: the cost of an apply that touches one
// record, and the garbage each such update leaves.
func BenchmarkRecompileTTLChange(b *testing.B) {
	s, snap, db, prev := recompileSetup(b)
	rec := snap.GetRecords()[0]
	b.Run(s.String(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec.Spec.Ttl++
			snap.Revision++
			ix, err := index.Compile(snap, index.Options{GeoIP: db, Previous: prev})
			if err != nil {
				b.Fatal(err)
			}
			prev = ix
		}
	})
}

// BenchmarkCompileSignedOriginDown compiles the snapshot signed, then, per
// iteration, the next revision with one origin's health flipped and the
// index before it given, as a server compiles an update.
func BenchmarkCompileSignedOriginDown(b *testing.B) {
	s := benchSize(b)
	db, err := geo.OpenDB(cachedDB(b, s))
	if err != nil {
		b.Fatal(err)
	}
	key, err := dnssec.Generate(b.TempDir(), gslbscale.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := dnssec.NewSigner(gslbscale.Zone, []*dnssec.Key{key}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	snap := gslbscale.Snapshot(s.records, s.origins, 1)
	opts := index.Options{GeoIP: db, Signers: map[string]*dnssec.Signer{gslbscale.Zone: signer}}
	// Settled, as settled does: no scope table left for a later build.
	prev, err := index.Compile(snap, opts)
	for err == nil && prev.Unfinished() {
		opts.Previous = prev
		prev, err = index.Compile(snap, opts)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Run(s.String(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			snap.Revision++
			snap.Origins[0].Healthy = !snap.Origins[0].Healthy
			opts.Previous = prev
			if prev, err = index.Compile(snap, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecompileOriginDown compiles a generated snapshot with one
// origin's health flipped and the next revision, the previous index given:
// the cost of a health change, which re-ranks every record naming the
// origin.
func BenchmarkRecompileOriginDown(b *testing.B) {
	s, snap, db, prev := recompileSetup(b)
	o := snap.GetOrigins()[0]
	b.Run(s.String(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o.Healthy = !o.GetHealthy()
			snap.Revision++
			ix, err := index.Compile(snap, index.Options{GeoIP: db, Previous: prev})
			if err != nil {
				b.Fatal(err)
			}
			prev = ix
		}
	})
}

// BenchmarkRecompilePopNetwork compiles a generated snapshot with a /24
// added to, then removed from, a PoP's cache networks, the previous index
// given: the cost of an apply that changes the prefix table but not the
// database.
func BenchmarkRecompilePopNetwork(b *testing.B) {
	s, snap, db, prev := recompileSetup(b)
	p := snap.GetPops()[0]
	base := p.CacheNetworks
	b.Run(s.String(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(p.CacheNetworks) == len(base) {
				p.CacheNetworks = append(slices.Clip(base), "100.64.7.0/24")
			} else {
				p.CacheNetworks = base
			}
			snap.Revision++
			ix, err := index.Compile(snap, index.Options{GeoIP: db, Previous: prev})
			if err != nil {
				b.Fatal(err)
			}
			prev = ix
		}
	})
}

// settled compiles snap, then again with the previous index given until
// no scope table is left for a later build (index.Index.Unfinished), as
// a server does in the background after a start: what an update costs
// is then its own work.
// recompileSetup is what the recompile benchmarks start from: the size
// asked for, its generated snapshot and cached database, and the snapshot
// compiled and settled.
func recompileSetup(b *testing.B) (size, *v1.GslbSnapshot, *geo.DB, *index.Index) {
	b.Helper()
	s := benchSize(b)
	db, err := geo.OpenDB(cachedDB(b, s))
	if err != nil {
		b.Fatal(err)
	}
	snap := gslbscale.Snapshot(s.records, s.origins, 1)
	return s, snap, db, settled(b, snap, db)
}

func settled(b *testing.B, snap *v1.GslbSnapshot, db *geo.DB) *index.Index {
	b.Helper()
	ix, err := index.Compile(snap, index.Options{GeoIP: db})
	for err == nil && ix.Unfinished() {
		ix, err = index.Compile(snap, index.Options{GeoIP: db, Previous: ix})
	}
	if err != nil {
		b.Fatal(err)
	}
	return ix
}

// BenchmarkRecompileSequence compiles the changes dnsscale's load test
// applies, in its order: the TTL of record i, then the health of origin
// i+1, and so on, each with the index before it given, and then, as the
// server does in the background, again until no scope table is left for
// a later build (reported as refines/op): the whole cost of one update
// of the load test's mix.
func BenchmarkRecompileSequence(b *testing.B) {
	s, snap, db, prev := recompileSetup(b)
	i, refines := 0, 0
	b.Run(s.String(), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if i%2 == 0 {
				snap.GetRecords()[i%len(snap.GetRecords())].Spec.Ttl++
			} else {
				o := snap.GetOrigins()[i%len(snap.GetOrigins())]
				o.Healthy = !o.GetHealthy()
			}
			i++
			snap.Revision++
			ix, err := index.Compile(snap, index.Options{GeoIP: db, Previous: prev})
			for err == nil && ix.Unfinished() {
				refines++
				ix, err = index.Compile(snap, index.Options{GeoIP: db, Previous: ix})
			}
			if err != nil {
				b.Fatal(err)
			}
			prev = ix
		}
		b.ReportMetric(float64(refines)/float64(b.N), "refines/op")
	})
}
