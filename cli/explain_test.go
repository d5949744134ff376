package cli

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/anyctl/anyctl/atomicfile"
	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func TestExplainQuery(t *testing.T) {
	tests := []struct {
		name, qtype, client string
		want                explainQuery
		wantErr             string
	}{
		{name: "origin.gslb.example.com", qtype: "A", client: "198.51.100.0/24",
			want: explainQuery{"origin.gslb.example.com.", dns.TypeA, netip.MustParsePrefix("198.51.100.0/24")}},
		{name: "origin.gslb.example.com.", qtype: "aaaa", client: "2001:db8:1::/48",
			want: explainQuery{"origin.gslb.example.com.", dns.TypeAAAA, netip.MustParsePrefix("2001:db8:1::/48")}},
		{name: "gslb.example.com", qtype: "SOA", client: "198.51.100.7",
			want: explainQuery{"gslb.example.com.", dns.TypeSOA, netip.MustParsePrefix("198.51.100.7/32")}},
		{name: "origin.gslb.example.com", qtype: "A", client: "::ffff:198.51.100.7",
			want: explainQuery{"origin.gslb.example.com.", dns.TypeA, netip.MustParsePrefix("198.51.100.7/32")}},
		{name: "origin.gslb.example.com", qtype: "A", client: "2001:db8::1",
			want: explainQuery{"origin.gslb.example.com.", dns.TypeA, netip.MustParsePrefix("2001:db8::1/128")}},
		{name: "origin.gslb.example.com", qtype: "A", client: "198.51.100.7/24",
			want: explainQuery{"origin.gslb.example.com.", dns.TypeA, netip.MustParsePrefix("198.51.100.0/24")}},
		{name: "", qtype: "A", client: "198.51.100.7", wantErr: `name "": not a domain name`},
		{name: "a..b", qtype: "A", client: "198.51.100.7", wantErr: `name "a..b": not a domain name`},
		{name: "origin.gslb.example.com", qtype: "AA", client: "198.51.100.7", wantErr: `--type "AA": want A or AAAA (or another query type)`},
		{name: "origin.gslb.example.com", qtype: "A", client: "",
			wantErr: `--client is required: the client's subnet (IP/LEN) or address (IP), e.g. --client 198.51.100.0/24`},
		{name: "origin.gslb.example.com", qtype: "A", client: "london", wantErr: `--client "london": want an IP address or IP/LEN`},
		{name: "origin.gslb.example.com", qtype: "A", client: "198.51.100.0/33", wantErr: `--client "198.51.100.0/33": want an IP address or IP/LEN`},
		{name: "origin.gslb.example.com", qtype: "A", client: "198.51.100.0/0",
			wantErr: `--client "198.51.100.0/0": a /0 subnet names no client; give an address or a longer prefix`},
	}
	for _, tc := range tests {
		t.Run(tc.name+" "+tc.qtype+" "+tc.client, func(t *testing.T) {
			f := explainFlags{qtype: tc.qtype, client: tc.client}
			got, err := f.query(tc.name)
			if tc.wantErr != "" {
				checkErr(t, err, tc.wantErr, true)
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("query = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestExplainCommandErrors: usage errors exit 2 before anything is
// contacted (the controller address is a socket nobody listens on); a
// state directory without a snapshot exits 1.
func TestExplainCommandErrors(t *testing.T) {
	dir := t.TempDir()
	nobody := "unix:" + filepath.Join(dir, "nobody.sock")
	tests := []struct {
		args     []string
		code     int
		wantErr  string
		wantNone bool
	}{
		{args: []string{"explain"}, code: ExitUsage, wantErr: "anyctl explain takes 1 argument(s), got 0"},
		{args: []string{"explain", "a.example.com", "b.example.com", "--client", "192.0.2.1"}, code: ExitUsage,
			wantErr: "anyctl explain takes 1 argument(s), got 2"},
		{args: []string{"explain", "origin.gslb.example.com"}, code: ExitUsage, wantErr: "--client is required"},
		{args: []string{"explain", "origin.gslb.example.com", "--client", "192.0.2.1", "--type", "B"}, code: ExitUsage,
			wantErr: `--type "B": want A or AAAA`},
		{args: []string{"explain", "origin.gslb.example.com", "--client", "192.0.2.1", "--default-location", "1,2,3"}, code: ExitUsage,
			wantErr: `--default-location "1,2,3": country "3"`},
		{args: []string{"explain", "origin.gslb.example.com", "--client", "192.0.2.1", "--geoip", filepath.Join(dir, "missing.mmdb")},
			code: ExitUsage, wantErr: "--geoip: open GeoIP database"},
		{args: []string{"explain", "origin.gslb.example.com", "--client", "192.0.2.1", "--no-such-flag"}, code: ExitUsage,
			wantErr: "unknown flag: --no-such-flag"},
		{args: []string{"explain", "origin.gslb.example.com", "--client", "192.0.2.1", "--dns-state-dir", dir}, code: ExitFailure,
			wantErr: `--dns-state-dir "` + dir + `": no persisted GSLB snapshot there; is it the DNS server's --state-dir?`},
		{args: []string{"explain", "origin.gslb.example.com", "--client", "192.0.2.1"}, code: ExitFailure,
			wantErr: "cannot reach the controller at " + nobody + " (from --server)"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runAnyctl(append([]string{"--server", nobody}, tc.args...), "")
			if code != tc.code || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.wantErr)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func TestPrintExplanation(t *testing.T) {
	snap := &v1.GslbSnapshot{Revision: 42, CompiledAt: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	ex := dnsgslb.Explanation{
		Name: "accounts.gslb.example.com.", Type: "A", Client: netip.MustParsePrefix("198.18.3.0/24"),
		Zone: "gslb.example.com.", Record: "accounts", Policy: "POLICY_NEAREST",
		Located: index.Located{Leaf: netip.MustParsePrefix("198.18.3.0/24"), Source: "geoip",
			Location: geo.Location{Latitude: 50.11, Longitude: 8.68, Country: "DE", Continent: "EU", City: "Frankfurt"}},
		Bucket: 7,
		Candidates: []index.CandidateExplanation{
			{Name: "us-east", Kind: "origin", Addresses: []string{"203.0.113.10"}, Healthy: true, DistanceKm: 6523.4,
				Excluded: "residency: not allowed by rule EU -> eu-west"},
			{Name: "eu-west", Kind: "origin", Addresses: []string{"203.0.113.20"}, Healthy: false, DistanceKm: 1088.7,
				Rank: 1, RankedBy: "distance", Answered: true, Note: "unhealthy, kept by fail-open"},
			{Name: "eu-central", Kind: "origin", Addresses: []string{"203.0.113.40"}, Healthy: true, DistanceKm: 12,
				RTT: 1234567 * time.Nanosecond, Rank: 2, RankedBy: "distance"},
		},
		Notes:  []string{"residency rule EU -> eu-west applies", "every allowed candidate is down: whenAllDown FAIL_OPEN answers with all of them"},
		Rcode:  "NOERROR",
		Answer: []string{"accounts.gslb.example.com.\t30\tIN\tA\t203.0.113.20"},
		TTL:    30, Scope: 23,
	}
	want := `Query:      accounts.gslb.example.com. A
Client:     198.18.3.0/24 (ECS source prefix /24)
Snapshot:   revision 42, compiled 2026-01-02T03:04:05Z, from the controller at 127.0.0.1:7400
Zone:       gslb.example.com.
Record:     GslbRecord "accounts", policy nearest
Located:    by the GeoIP database: Frankfurt, DE, EU (50.11, 8.68); table leaf 198.18.3.0/24
Bucket:     7 (the weighted choice and traffic dials depend on the client subnet)
Rcode:      NOERROR
Answer:     accounts.gslb.example.com. 30 IN A 203.0.113.20
TTL:        30s
ECS scope:  /23: resolvers may reuse the answer for every client in 198.18.2.0/23

Candidates:
  RANK  CANDIDATE   KIND    HEALTH   DISTANCE  RTT    ADDRESSES     OUTCOME
  1     eu-west     origin  down     1089 km   -      203.0.113.20  answered (by distance); unhealthy, kept by fail-open
  2     eu-central  origin  healthy  12 km     1.2ms  203.0.113.40  kept, ranked below the answers (by distance)
  -     us-east     origin  healthy  6523 km   -      203.0.113.10  excluded: residency: not allowed by rule EU -> eu-west

Notes:
  - residency rule EU -> eu-west applies
  - every allowed candidate is down: whenAllDown FAIL_OPEN answers with all of them
`
	var b strings.Builder
	if err := printExplanation(&b, ex, snap, "the controller at 127.0.0.1:7400"); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestExplainOutsideZones: a name in no zone of the snapshot (the zone
// left off, a typo) is a usage error naming it and the zones, not a
// REFUSED explained with exit status 0.
func TestExplainOutsideZones(t *testing.T) {
	dir := t.TempDir()
	b, err := proto.Marshal(gslbtest.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFramed(filepath.Join(dir, "gslb-snapshot.pb"), "AGSL", b); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		code    int
		wantErr string
	}{
		{"nearest", ExitUsage, `name "nearest.": in no zone of the GSLB snapshot (gslb.example.com.); give the name in full`},
		{"nearest.gslb.example.org", ExitUsage, `name "nearest.gslb.example.org.": in no zone of the GSLB snapshot (gslb.example.com.)`},
		{"nearest.gslb.example.com", 0, ""},
		{"missing.gslb.example.com", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAnyctl([]string{"explain", tc.name, "--client", "198.51.100.0/24", "--dns-state-dir", dir}, "")
			if code != tc.code || tc.wantErr != "" && (!strings.Contains(errOut, tc.wantErr) || out != "") || tc.wantErr == "" && errOut != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tc.code, tc.wantErr)
			}
		})
	}
}

// TestExplainScopeSettled: anyctl explain reports the ECS scope the server
// answers with once its index is finished (every scope table built, over
// as many builds as the per-build budget needs), not the narrower scope of
// a first build that left tables for later.
func TestExplainScopeSettled(t *testing.T) {
	dir := t.TempDir()
	geoip := filepath.Join(dir, "city.mmdb")
	if err := gslbscale.GeoDB(geoip, 3000, 300, 5); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(geoip)
	if err != nil {
		t.Fatal(err)
	}
	snap := gslbscale.Snapshot(40, 24, 7)
	b, err := proto.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFramed(filepath.Join(dir, "gslb-snapshot.pb"), "AGSL", b); err != nil {
		t.Fatal(err)
	}
	defer index.SetScopeBudget(index.SetScopeBudget(70000))
	ix, err := index.Compile(snap, index.Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Unfinished() {
		t.Fatal("the first build is finished: the budget does not bite")
	}
	for ix.Unfinished() {
		if ix, err = index.Compile(snap, index.Options{GeoIP: db, Previous: ix}); err != nil {
			t.Fatal(err)
		}
	}
	client := netip.MustParsePrefix("13.63.16.0/24")
	for _, rec := range snap.GetRecords() {
		if rec.GetSpec().GetType() != v1.RecordType_RECORD_TYPE_A {
			continue
		}
		name := rec.GetSpec().GetName() + "." + gslbscale.Zone
		want := ix.Explain(name, dns.TypeA, client)
		code, out, errOut := runAnyctl([]string{"explain", name, "--client", client.String(), "--geoip", geoip, "--dns-state-dir", dir}, "")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		if line := fmt.Sprintf("ECS scope:  %s\n", describeScope(client, want.Scope)); !strings.Contains(out, line) {
			t.Errorf("%s: the server answers with %q; explain says:\n%s", name, line, out)
		}
	}
}

// TestExplainSignersLeaveAWaitingZoneUnsigned: a key directory with a
// zone whose only key is not activated yet (dnssec-keygen -A +2h) is one
// a DNS server answers unsigned while it signs the others; explain takes
// it as the server does, rather than refuse the whole directory.
func TestExplainSignersLeaveAWaitingZoneUnsigned(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	w, err := dnssec.Generate(dir, "next.example.", dns.ECDSAP256SHA256, dnssec.CSK, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetTiming(dnssec.Timing{Created: w.Created, Publish: w.Publish, Activate: w.Publish.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	signers, err := explainSigners(dir)
	if err != nil || signers[gslbtest.Zone] == nil || signers["next.example."] != nil {
		t.Errorf("explainSigners: %v, %v; want a signer for %s alone", signers, err, gslbtest.Zone)
	}
}
