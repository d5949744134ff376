// Command benchgen writes the inputs of bench/dns.sh into a directory: the
// GeoIP database, the GSLB snapshot, an equivalent gdnsd configuration and
// a dnsperf query file (TCP-stream binary format, for per-query ECS). With
// -knot-port it also writes what bench/dns-dnssec.sh needs: the same
// queries with the DO bit set (queries-do.bin) and a Knot DNS
// configuration serving the same geo zone, signed, with its geoip module
// (knot/).
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

func main() {
	out := flag.String("out", "", "directory to write into (required)")
	port := flag.Int("gdnsd-port", 5301, "port gdnsd listens on")
	n := flag.Int("queries", 20000, "queries in the query file")
	knotPort := flag.Int("knot-port", 0, "also write queries-do.bin and a Knot DNS configuration listening on this port (0: neither)")
	udpThreads := flag.Int("gdnsd-udp-threads", 1, "gdnsd's UDP threads (udp_threads), each on a socket of its own (SO_REUSEPORT)")
	flag.Parse()
	if *udpThreads < 1 {
		fmt.Fprintf(os.Stderr, "benchgen: -gdnsd-udp-threads %d: want 1 or more\n", *udpThreads)
		os.Exit(2)
	}
	if err := run(*out, *port, *udpThreads, *n); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
	if *knotPort == 0 {
		return
	}
	if err := runKnot(*out, *knotPort, *n); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

// runKnot writes the DO queries and the Knot DNS configuration: the zone
// of gdnsdZone with nearest's default answer (us-east, where the Go server
// puts clients nothing locates) in the zone file, signed by knotd with a
// key imported into its KASP database (keymgr import-bind), and the geoip
// module answering nearest by continent, its answers signed when it loads.
func runKnot(out string, port, n int) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(abs, "knot"), 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"queries-do.bin":             string(queries(n, true)),
		"knot/knot.conf":             fmt.Sprintf(knotConfig, abs, port),
		"knot/gslb.example.com.zone": knotZone,
		"knot/geo.conf":              knotGeo,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(abs, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func run(out string, port, udpThreads, n int) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	for _, d := range []string{"gdnsd/zones", "gdnsd/geoip"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	if err := geotest.Write(filepath.Join(out, "city.mmdb"), geotest.Networks); err != nil {
		return err
	}
	if err := geotest.Write(filepath.Join(out, "gdnsd/geoip/city.mmdb"), geotest.Networks); err != nil {
		return err
	}
	snap, err := proto.Marshal(gslbtest.Snapshot())
	if err != nil {
		return err
	}
	files := map[string]string{
		"snapshot.pb":                  string(snap),
		"gdnsd/config":                 fmt.Sprintf(gdnsdConfig, port, udpThreads),
		"gdnsd/zones/gslb.example.com": gdnsdZone,
		"queries.bin":                  string(queries(n, false)),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(out, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// gdnsdConfig mirrors the snapshot's "nearest" record: the same three
// origins, located by the same database, nearest by coordinates.
const gdnsdConfig = `options => {
  listen => [ 127.0.0.1:%d ]
  udp_threads => %d
  tcp_threads => 1
}
plugins => {
  geoip => {
    maps => {
      origins => {
        geoip2_db => city.mmdb
        datacenters => [ us-east, eu-west, ap-northeast ]
        auto_dc_coords => {
          us-east => [ 39.04, -77.49 ]
          eu-west => [ 53.35, -6.26 ]
          ap-northeast => [ 35.68, 139.69 ]
        }
        auto_dc_limit => 1
      }
    }
    resources => {
      nearest => {
        map => origins
        dcmap => {
          us-east => { addrs_v4 => 192.0.2.10, addrs_v6 => 2001:db8:a::10 }
          eu-west => { addrs_v4 => 192.0.2.20, addrs_v6 => 2001:db8:b::20 }
          ap-northeast => { addrs_v4 => 192.0.2.30, addrs_v6 => 2001:db8:c::30 }
        }
      }
    }
  }
}
`

const gdnsdZone = `$TTL 300
@ SOA ns1 hostmaster 2026010201 3600 600 86400 60
@ NS ns1
@ NS ns2.example.net.
ns1 A 192.0.2.53
ns1 AAAA 2001:db8::53
www A 192.0.2.80
www AAAA 2001:db8::80
nearest 30 DYNA geoip!nearest
`

// knotConfig runs one UDP and one TCP worker, as gdnsd and the Go server
// run, with EDNS Client Subnet on. The policy signs with the imported key
// as a CSK (ECDSA P-256, as anyctl dnssec keygen makes), NSEC denial, and
// never rolls it (manual): the geoip module signs its answers once, when
// it loads, with the zone's keys. Arguments: the work directory, the port.
const knotConfig = `server:
  rundir: %[1]s/knot
  listen: 127.0.0.1@%[2]d
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
  edns-client-subnet: on
log:
  - target: stderr
    any: notice
database:
  storage: %[1]s/knot
policy:
  - id: csk
    algorithm: ecdsap256sha256
    single-type-signing: on
    manual: on
mod-geoip:
  - id: nearest
    config-file: %[1]s/knot/geo.conf
    ttl: 30
    mode: geodb
    geodb-file: %[1]s/city.mmdb
    geodb-key: [ continent/code ]
template:
  - id: default
    storage: %[1]s/knot
zone:
  - domain: gslb.example.com.
    file: gslb.example.com.zone
    dnssec-signing: on
    dnssec-policy: csk
    zonefile-sync: -1
    journal-content: none
    module: mod-geoip/nearest
`

const knotZone = `$ORIGIN gslb.example.com.
$TTL 300
@ SOA ns1 hostmaster 2026010201 3600 600 86400 60
@ NS ns1
@ NS ns2.example.net.
ns1 A 192.0.2.53
ns1 AAAA 2001:db8::53
www A 192.0.2.80
www AAAA 2001:db8::80
nearest 30 A 192.0.2.10
nearest 30 AAAA 2001:db8:a::10
`

// knotGeo answers nearest by the client's continent: each continent of the
// test database holds one origin, which is also the nearest one to every
// city of that continent in it, so the answers are those of the Go server
// and gdnsd.
const knotGeo = `nearest.gslb.example.com:
  - geo: "NA"
    A: 192.0.2.10
    AAAA: 2001:db8:a::10
  - geo: "EU"
    A: 192.0.2.20
    AAAA: 2001:db8:b::20
  - geo: "AS"
    A: 192.0.2.30
    AAAA: 2001:db8:c::30
`

// queries is a mix of geo names with IPv4 and IPv6 ECS from three
// continents, static names and NXDOMAINs, in dnsperf's binary format, with
// the DO bit set if do. dnsperf sends binary queries as they are (its -D
// applies to text input only), so the bit is set here.
func queries(n int, do bool) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	v4 := []string{gslbtest.Tokyo, gslbtest.London, gslbtest.NewYork, gslbtest.Frankfurt, "198.18.4.0/24", gslbtest.SanFrancisco, gslbtest.PaloAlto}
	v6 := []string{gslbtest.Tokyo6, gslbtest.London6, gslbtest.NewYork6, "2001:db8:4::/48"}
	var out []byte
	for i := range n {
		var name string
		qtype := dns.TypeA
		ecs := v4[r.IntN(len(v4))]
		switch p := r.IntN(100); {
		case p < 45:
			name = "nearest.gslb.example.com."
		case p < 70:
			name, qtype, ecs = "nearest.gslb.example.com.", dns.TypeAAAA, v6[r.IntN(len(v6))]
		case p < 80:
			name, ecs = "nearest.gslb.example.com.", v6[r.IntN(len(v6))]
		case p < 92:
			name = "www.gslb.example.com."
		default:
			name = fmt.Sprintf("nx%d.gslb.example.com.", i)
		}
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.RecursionDesired = false
		m.SetEdns0(1232, do)
		p := randomSubnet(r, netip.MustParsePrefix(ecs))
		fam := uint16(1)
		if p.Addr().Is6() {
			fam = 2
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()})
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// randomSubnet is a random /24 (IPv4) or /56 (IPv6) inside p.
func randomSubnet(r *rand.Rand, p netip.Prefix) netip.Prefix {
	b := p.Addr().AsSlice()
	bits := 24
	if len(b) == 16 {
		bits = 56
	}
	for i := p.Bits(); i < bits; i++ {
		if r.IntN(2) == 1 {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, bits).Masked()
}
