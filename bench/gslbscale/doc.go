// Package gslbscale generates GSLB inputs at production scale for
// benchmarks: a GeoIP2-City-shaped MaxMind database with millions of
// networks and ~100,000 distinct locations clustered in ~200 countries
// (GeoDB, cached on disk by CachedGeoDB because it takes a while to write),
// and a GslbSnapshot with thousands of records over dozens of origins
// (Snapshot). Both are deterministic for a seed. bench/cmd/dnsscale measures
// the dnsgslb server with them.
package gslbscale
