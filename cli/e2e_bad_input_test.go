package cli_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/cli"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// rejectedOne is anyctl's last line when the controller refuses an apply
// for one problem, which it printed on the line before.
const rejectedOne = "anyctl: the controller rejected the apply (1 problem); nothing was written"

// TestE2EBadInputChangesNothing applies one bad input at a time on top of
// the example deployment. Each must fail with exit code 1 and one message
// that names the object, the field, the value and the rule, and must leave
// every stored object, and the store revision, as they were.
func TestE2EBadInputChangesNothing(t *testing.T) {
	c := startWithExamples(t)
	oversized := oversizedDocument(t)

	cases := []struct {
		name string
		file string // under testdata/e2e/bad, or "-" for stdin
		// stdin is standard input when file is "-".
		stdin string
		// want is anyctl's exact problem line: the controller's, followed
		// by rejectedOne, or the client's own, starting "anyctl: ".
		want string
	}{
		{name: "invalid CIDR", file: "invalid-cidr.yaml",
			want: `AnycastService "bad-cidr": spec.prefixes[0] "2001:db8:90::/129": invalid CIDR: want address/length such as "192.0.2.0/24"`},
		{name: "host bits set", file: "host-bits.yaml",
			want: `AnycastService "host-bits": spec.prefixes[0] "2001:db8:90::1/48": host bits set; did you mean "2001:db8:90::/48"?`},
		{name: "outside the allowed address space", file: "outside-allowed-space.yaml",
			want: `AnycastService "outside": spec.prefixes[0] "100.64.0.0/24": outside the allowed address space (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)`},
		{name: "IPv4 default route", file: "default-route-ipv4.yaml",
			want: `AnycastService "default-v4": spec.prefixes[0] "0.0.0.0/0": default route: never announced`},
		{name: "IPv6 default route", file: "default-route-ipv6.yaml",
			want: `AnycastService "default-v6": spec.prefixes[0] "::/0": default route: never announced`},
		{name: "IPv4 longer than /24", file: "long-ipv4-prefix.yaml",
			want: `AnycastService "long-v4": spec.prefixes[0] "203.0.113.0/25": prefix too long: IPv4 longer than /24 is filtered by most networks; set spec.allowLongPrefixes to announce it`},
		{name: "IPv6 longer than /48", file: "long-ipv6-prefix.yaml",
			want: `AnycastService "long-v6": spec.prefixes[0] "2001:db8:90::/56": prefix too long: IPv6 longer than /48 is filtered by most networks; set spec.allowLongPrefixes to announce it`},
		{name: "same prefix in two services", file: "same-prefix-two-services.yaml",
			want: `AnycastService "second-dns": spec.prefixes[0] "192.0.2.0/24": overlaps AnycastService "edge-dns"`},
		{name: "unknown PoP", file: "unknown-pop.yaml",
			want: `AnycastService "paris-only": spec.pops.names[0] "paris": unknown Pop`},
		{name: "unknown origin", file: "unknown-origin.yaml",
			want: `GslbRecord "api": spec.origins[1] "mars-base": unknown Origin`},
		{name: "duplicate names in one apply", file: "duplicate-names.yaml",
			want: `anyctl: testdata/e2e/bad/duplicate-names.yaml:23: document 2 (Pop "paris"): declared again: first declared in testdata/e2e/bad/duplicate-names.yaml document 1`},
		{name: "ASN 0", file: "asn-zero.yaml",
			want: `Pop "paris": spec.localAsn: ASN 0 is reserved (RFC 7607)`},
		{name: "ASN 23456", file: "asn-23456.yaml",
			want: `Pop "paris": spec.peers[0].peerAsn: ASN 23456 is AS_TRANS (RFC 6793)`},
		{name: "ASN out of range", file: "asn-out-of-range.yaml",
			want: `anyctl: testdata/e2e/bad/asn-out-of-range.yaml:13: document 1 (Pop "paris"): spec.localAsn: "4294967296" is out of range: want 0 to 4294967295`},
		{name: "router ID not IPv4", file: "invalid-router-id.yaml",
			want: `Pop "paris": spec.routerId "2001:db8:500::5": not an IPv4 address: the BGP identifier is 32 bits`},
		{name: "peer local address family not the session's", file: "peer-family-mismatch.yaml",
			want: `Pop "paris": spec.peers[0].localAddress "2001:db8:500::2": IPv6, but the session address "203.0.113.193" is IPv4: peer address family not matching its session`},
		{name: "health interval under 100ms", file: "health-interval-too-short.yaml",
			want: `AnycastService "fast-check": spec.healthCheck.interval "50ms": under 100ms`},
		{name: "health timeout not below interval", file: "health-timeout-not-below-interval.yaml",
			want: `AnycastService "slow-check": spec.healthCheck.timeout "2s": timeout not below interval "2s"`},
		{name: "health rise 0", file: "health-rise-zero.yaml",
			want: `AnycastService "rise-zero": spec.healthCheck.rise "0": must be at least 1`},
		{name: "health fall 0", file: "health-fall-zero.yaml",
			want: `AnycastService "fall-zero": spec.healthCheck.fall "0": must be at least 1`},
		{name: "negative weight", file: "weight-negative.yaml",
			want: `Origin "ap-southeast": spec.weight "-5": weight negative: use 0 to take no weighted traffic`},
		{name: "traffic dial over 100", file: "traffic-dial-over-100.yaml",
			want: `Origin "ap-southeast": spec.trafficDial "101": outside 0..100 (percent of its traffic the origin keeps)`},
		{name: "traffic dial negative", file: "traffic-dial-negative.yaml",
			want: `Origin "ap-southeast": spec.trafficDial "-1": outside 0..100 (percent of its traffic the origin keeps)`},
		{name: "latitude out of range", file: "latitude-out-of-range.yaml",
			want: `Pop "paris": spec.location.latitude "91.5": outside -90..90`},
		{name: "longitude out of range", file: "longitude-out-of-range.yaml",
			want: `Pop "paris": spec.location.longitude "-180.5": outside -180..180`},
		{name: "unknown country code", file: "unknown-country.yaml",
			want: `Pop "paris": spec.location.country "XX": unknown country code: want an ISO 3166-1 alpha-2 code such as "JP"`},
		{name: "record name outside its zone", file: "record-outside-zone.yaml",
			want: `GslbRecord "api": spec.name "api.example.net.": outside zone "gslb.example.com."`},
		{name: "record TTL out of range", file: "ttl-out-of-range.yaml",
			want: `GslbRecord "api": spec.ttl "86401": outside 1..86400 (0 means the zone's defaultTtl)`},
		{name: "empty origin set", file: "empty-origin-set.yaml",
			want: `GslbRecord "api": spec.origins: empty origin set: list origins or select pops`},
		{name: "unknown YAML field", file: "unknown-field.yaml",
			want: `anyctl: testdata/e2e/bad/unknown-field.yaml:13: document 1 (Pop "paris"): spec.location: unknown field "altitude" (did you mean "latitude"?)`},
		{name: "wrong apiVersion", file: "wrong-api-version.yaml",
			want: `anyctl: testdata/e2e/bad/wrong-api-version.yaml:1: document 1: apiVersion: unknown version "anycast.anyctl.io/v2": want "anycast.anyctl.io/v1"`},
		{name: "wrong kind", file: "wrong-kind.yaml",
			want: `anyctl: testdata/e2e/bad/wrong-kind.yaml:2: document 1: kind: unknown kind "PointOfPresence": want one of Pop, AnycastService, Origin, GslbZone, GslbRecord`},
		{name: "document over the size limit", file: "-", stdin: oversized,
			want: `anyctl: <stdin>:1: document 1: document is larger than 1048576 bytes`},
		{name: "MX without its preference", file: "zone-mx-malformed.yaml",
			want: `GslbZone "shop": spec.records[0].values[0] "mail.shop.example.com.": not MX data: write PREFERENCE EXCHANGE, such as "10 mx.example.com." (bad MX Pref: "mail.shop.example.com.")`},
		{name: "delegation without glue", file: "delegation-without-glue.yaml",
			want: `GslbZone "shop": spec.records[0].values[0] "ns1.eu": glue required: "ns1.eu.shop.example.com." is inside the delegated zone; add its A or AAAA record`},
		{name: "HTTPS record with an address hint", file: "https-record-with-hint.yaml",
			want: `GslbRecord "api-https": spec.https.params "alpn=h2 ipv4hint=192.0.2.10": ipv4hint comes from the chosen origins or PoPs: leave it out`},
		{name: "origin name beside an address", file: "origin-name-beside-address.yaml",
			want: `Origin "cloud": spec.addresses[0] "lb-1.elb.example.net.": a DNS name must be the origin's only address: it is answered with a CNAME, and a CNAME stands alone`},
		{name: "only the last of three documents bad", file: "only-last-document-bad.yaml",
			want: `GslbRecord "api": spec.origins[1] "mars-base": unknown Origin`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.file
			if path != "-" {
				path = filepath.Join("testdata", "e2e", "bad", tc.file)
			}
			before := listAll(t, c.Admin)
			r := anyctl(t, c.Addr, tc.stdin, "apply", "-f", path)
			if r.code != cli.ExitFailure {
				t.Errorf("exit code %d, want %d", r.code, cli.ExitFailure)
			}
			want := []string{tc.want}
			if !strings.HasPrefix(tc.want, "anyctl: ") {
				want = append(want, rejectedOne)
			}
			if got := nonEmptyLines(r.stderr); !slices.Equal(got, want) {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, strings.Join(want, "\n"))
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			requireSameState(t, before, listAll(t, c.Admin))
		})
	}

	t.Run("long prefixes with allowLongPrefixes", func(t *testing.T) {
		r := mustAnyctl(t, c.Addr, "", "apply", "-f", filepath.Join("testdata", "e2e", "long-prefixes-allowed.yaml"))
		if want := "anycastservice/long-prefixes created\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		got, err := c.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: "long-prefixes"})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"203.0.113.0/25", "2001:db8:90::/56"}
		if p := got.GetObject().GetAnycastService().GetSpec().GetPrefixes(); !slices.Equal(p, want) {
			t.Errorf("stored prefixes = %q, want %q", p, want)
		}
	})
}

// oversizedDocument is a valid Pop document padded, by its description,
// to one byte over manifest.MaxDocumentBytes.
func oversizedDocument(t *testing.T) string {
	t.Helper()
	doc := readFile(t, filepath.Join("testdata", "e2e", "bad", "asn-zero.yaml"))
	doc = replaceOnce(t, doc, "localAsn: 0", "localAsn: 64512")
	doc = replaceOnce(t, doc, "  name: paris\n", "  name: paris\n  description: \"\"\n")
	pad := manifest.MaxDocumentBytes + 1 - len(doc)
	doc = strings.Replace(doc, `description: ""`, `description: "`+strings.Repeat("x", pad)+`"`, 1)
	if len(doc) != manifest.MaxDocumentBytes+1 {
		t.Fatalf("oversized document is %d bytes, want %d", len(doc), manifest.MaxDocumentBytes+1)
	}
	return doc
}
