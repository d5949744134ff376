package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller/controllertest"
)

// TestE2EApplyWarnsOfLongCacheNetworks: PoP cache networks longer than
// /24 or /56 are accepted, and apply, with and without --dry-run, says on
// standard error that resolvers shortening ECS cannot tell them apart.
func TestE2EApplyWarnsOfLongCacheNetworks(t *testing.T) {
	c := controllertest.Start(t)
	pops := filepath.Join(examplesDir, "pops.yaml")
	want := []string{
		`Warning: Pop "tokyo": spec.cacheNetworks[0] "203.0.113.136/29": longer than /24: behind a resolver that shortens ECS to /24 (unbound's default) the DNS server sees only the /24, and cannot tell this network from the rest of it`,
		`Warning: Pop "tokyo": spec.cacheNetworks[1] "2001:db8:100:c::/64": longer than /56: behind a resolver that shortens ECS to /56 (unbound's default) the DNS server sees only the /56, and cannot tell this network from the rest of it`,
	}
	for _, args := range [][]string{{"apply", "--dry-run", "-f", pops}, {"apply", "-f", pops}} {
		r := mustAnyctl(t, c.Addr, "", args...)
		for _, w := range want {
			if !strings.Contains(r.stderr, w+"\n") {
				t.Errorf("anyctl %s: standard error lacks\n%s\ngot:\n%s", strings.Join(args, " "), w, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "pop/tokyo created") {
			t.Errorf("anyctl %s: standard output:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
}

// TestE2EApplyWarnsOfACNAMEBesideAddresses: a GslbRecord changed to rank
// its candidates unlike the record of another type at its name, with a
// name origin among them, is applied with a warning that names both: the
// warning reads the records already stored.
func TestE2EApplyWarnsOfACNAMEBesideAddresses(t *testing.T) {
	c := startWithExamples(t)
	records := func(policyAAAA string) string {
		return `apiVersion: anycast.anyctl.io/v1
kind: Origin
metadata: {name: cloud-lb}
spec:
  location: {latitude: 50.11, longitude: 8.68, country: DE, continent: EU, region: emea}
  addresses: [lb-123.cloud.example.net.]
  weight: 10
---
apiVersion: anycast.anyctl.io/v1
kind: GslbRecord
metadata: {name: cdn-a}
spec: {zone: gslb, name: cdn, type: A, origins: [us-east, cloud-lb], policy: nearest}
---
apiVersion: anycast.anyctl.io/v1
kind: GslbRecord
metadata: {name: cdn-aaaa}
spec: {zone: gslb, name: cdn, type: AAAA, origins: [us-east, cloud-lb], policy: ` + policyAAAA + `}
`
	}
	if r := mustAnyctl(t, c.Addr, records("nearest"), "apply", "-f", "-"); strings.Contains(r.stderr, "Warning") {
		t.Errorf("records that rank alike: standard error:\n%s", r.stderr)
	}
	aaaa := records("failover")
	aaaa = aaaa[strings.LastIndex(aaaa, "---\n")+4:]
	want := `Warning: GslbRecord "cdn-a": spec.name "cdn.gslb.example.com.": beside GslbRecord "cdn-aaaa", which ranks other candidates, and Origin "cloud-lb" is a DNS name answered with a CNAME`
	for _, args := range [][]string{{"apply", "--dry-run", "-f", "-"}, {"apply", "-f", "-"}} {
		if r := mustAnyctl(t, c.Addr, aaaa, args...); !strings.Contains(r.stderr, want) {
			t.Errorf("anyctl %s: standard error lacks\n%s\ngot:\n%s", strings.Join(args, " "), want, r.stderr)
		}
	}
}

// TestE2EApplyWarnsOfACNAMETargetWithoutItsDot: a static CNAME and a name
// origin whose targets have more than one label and no trailing dot are
// applied, with and without --dry-run, with a warning that they are served
// as absolute names and what to write for each meaning.
func TestE2EApplyWarnsOfACNAMETargetWithoutItsDot(t *testing.T) {
	c := startWithExamples(t)
	gslb, err := os.ReadFile(filepath.Join(examplesDir, "gslb.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := strings.Replace(string(gslb), "  records:\n", "  records:\n    - {name: docs, type: CNAME, values: [docs.example.net]}\n", 1) + `---
apiVersion: anycast.anyctl.io/v1
kind: Origin
metadata: {name: cloud-lb}
spec:
  location: {latitude: 50.11, longitude: 8.68, country: DE, continent: EU, region: emea}
  addresses: [lb-123.cloud.example.net]
  weight: 10
`
	want := []string{
		`Warning: GslbZone "gslb": spec.records[0].values[0] "docs.example.net": a CNAME target is served as the absolute name "docs.example.net.", though a name without a trailing dot is relative to the zone in NS and SOA data and in zone files: write "docs.example.net." for that name, or "docs.example.net.gslb.example.com." for the name in this zone`,
		`Warning: Origin "cloud-lb": spec.addresses[0] "lb-123.cloud.example.net": a DNS name origin is served as the CNAME target "lb-123.cloud.example.net.", an absolute name`,
	}
	for _, args := range [][]string{{"apply", "--dry-run", "-f", "-"}, {"apply", "-f", "-"}} {
		r := mustAnyctl(t, c.Addr, objs, args...)
		for _, w := range want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("anyctl %s: standard error lacks\n%s\ngot:\n%s", strings.Join(args, " "), w, r.stderr)
			}
		}
	}
}
