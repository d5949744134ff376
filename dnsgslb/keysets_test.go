package dnsgslb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestKeySets: a signed server reports the DNSKEY RRset it answers (the
// key tags of the RRset a DNSKEY query gets, a digest) and exports it as a
// metric; a key added to its directory changes the set, the digest and
// the metric, and KeySetsChanged says so.
func TestKeySets(t *testing.T) {
	dir := t.TempDir()
	k1, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	served := func() []string {
		t.Helper()
		r := ts.exchange(t, "tcp", msg(t, gslbtest.Zone, dns.TypeDNSKEY, ""))
		var tags []string
		for _, rr := range r.Answer {
			if k, ok := rr.(*dns.DNSKEY); ok {
				tags = append(tags, fmt.Sprint(k.KeyTag()))
			}
		}
		slices.Sort(tags)
		return tags
	}
	reported := func() ([]string, string) {
		t.Helper()
		sets := ts.KeySets()
		if len(sets) != 1 || sets[0].Zone != gslbtest.Zone {
			t.Fatalf("KeySets %+v, want one for %s", sets, gslbtest.Zone)
		}
		var tags []string
		for _, k := range sets[0].Keys {
			tags = append(tags, fmt.Sprint(k.Tag))
		}
		slices.Sort(tags)
		return tags, sets[0].Digest
	}
	tags, digest := reported()
	if got := served(); !equal(tags, got) {
		t.Errorf("reported key tags %q, DNSKEY answer's %q", tags, got)
	}
	if m := keySetMetric(t, ts); !strings.Contains(m, "digest="+digest) || !strings.Contains(m, fmt.Sprintf("keys=%d/13/257", k1.Tag())) {
		t.Errorf("metric %q: want digest %s and key %d", m, digest, k1.Tag())
	}
	select {
	case <-ts.KeySetsChanged():
		t.Error("KeySetsChanged before any key changed")
	default:
	}

	k2, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.ZSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.ReloadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ts.KeySetsChanged():
	default:
		t.Error("no KeySetsChanged after a key was added")
	}
	tags2, digest2 := reported()
	if len(tags2) != 2 || digest2 == digest {
		t.Errorf("after adding key %d: tags %q digest %s (was %s), want two tags and another digest", k2.Tag(), tags2, digest2, digest)
	}
	if got := served(); !equal(tags2, got) {
		t.Errorf("reported key tags %q, DNSKEY answer's %q", tags2, got)
	}
	if m := keySetMetric(t, ts); !strings.Contains(m, "digest="+digest2) {
		t.Errorf("metric %q: want digest %s", m, digest2)
	}
}

// keySetMetric is the anyctl_dns_dnssec_keyset_info series, labels only.
func keySetMetric(t *testing.T, ts *testServer) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(ts.Collector()); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if f.GetName() != "anyctl_dns_dnssec_keyset_info" {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out = append(out, strings.Join(labels, ","))
		}
	}
	return strings.Join(out, "; ")
}

// TestKeySetsDifferWhenAServerAnswersUnsigned: of two servers of a zone,
// one signing it and one without its keys (started without
// --dnssec-keys), the keyset metrics give the zone two digests, which is
// what AnyctlDnssecKeySetsDiffer counts; a zone both answer unsigned has
// one.
func TestKeySetsDifferWhenAServerAnswersUnsigned(t *testing.T) {
	dir := t.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	signed := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, withNextZone()))
	unsigned := run(t, newServerWith(t, dnsgslb.Config{}, withNextZone()))
	digests := map[string]map[string]bool{}
	for _, ts := range []*testServer{signed, unsigned} {
		m := keySetMetric(t, ts)
		for _, series := range strings.Split(m, "; ") {
			var zone, digest string
			for _, l := range strings.Split(series, ",") {
				if v, ok := strings.CutPrefix(l, "zone="); ok {
					zone = v
				}
				if v, ok := strings.CutPrefix(l, "digest="); ok {
					digest = v
				}
			}
			if zone == "" {
				continue
			}
			if digests[zone] == nil {
				digests[zone] = map[string]bool{}
			}
			digests[zone][digest] = true
		}
	}
	if n := len(digests[gslbtest.Zone]); n != 2 {
		t.Errorf("%s, signed by one server of two: %d digests %v, want 2 (the alert fires)", gslbtest.Zone, n, digests)
	}
	if n := len(digests["next.example."]); n != 1 {
		t.Errorf("next.example., unsigned at both servers: %d digests %v, want 1", n, digests)
	}
}

// TestKeySetsDifferWhenServersSignWithOtherKeys: two servers of a zone
// publish the same two keys, but one signs with the first and the other,
// whose files were retimed (a rollover step done on it alone), with the
// second. A resolver holding the DS of one key fails at the server
// signing with the other, so their key sets must differ, and say which
// key signs.
func TestKeySetsDifferWhenServersSignWithOtherKeys(t *testing.T) {
	now := time.Now()
	a := t.TempDir()
	k1, err := dnssec.Generate(a, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := dnssec.Generate(a, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := k2.SetTiming(dnssec.Timing{Created: now.Add(-time.Hour), Publish: now.Add(-time.Hour), Activate: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	b := t.TempDir()
	entries, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(a, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := dnssec.LoadDir(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys[gslbtest.Zone] {
		timing := dnssec.Timing{Created: now.Add(-time.Hour), Publish: now.Add(-time.Hour), Activate: now.Add(-time.Hour)}
		if k.Tag() == k1.Tag() {
			timing.Inactive = now.Add(-time.Minute)
		}
		if err := k.SetTiming(timing); err != nil {
			t.Fatal(err)
		}
	}
	sets := map[string]dnsgslb.KeySet{}
	for name, dir := range map[string]string{"a": a, "b": b} {
		sets[name] = run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot())).KeySets()[0]
	}
	signing := func(set dnsgslb.KeySet) (tags []uint16) {
		for _, k := range set.Keys {
			if k.Signing {
				tags = append(tags, k.Tag)
			}
		}
		return tags
	}
	if len(sets["a"].Keys) != 2 || len(sets["b"].Keys) != 2 {
		t.Fatalf("key sets %+v, want both keys published at both servers", sets)
	}
	if got := signing(sets["a"]); !slices.Equal(got, []uint16{k1.Tag()}) {
		t.Errorf("server a signs with %v, want %d", got, k1.Tag())
	}
	if got := signing(sets["b"]); !slices.Equal(got, []uint16{k2.Tag()}) {
		t.Errorf("server b signs with %v, want %d", got, k2.Tag())
	}
	if sets["a"].Digest == sets["b"].Digest {
		t.Errorf("both servers report digest %s: AnyctlDnssecKeySetsDiffer cannot see that they sign with other keys", sets["a"].Digest)
	}
}

// TestKeySetsOnlyOfZonesServed: keys for a zone the snapshot does not
// hold (the key directory copied whole to every server, or a zone not
// added yet) are not reported: the servers that have no keys for it would
// otherwise show as disagreeing with this one in anyctl status.
func TestKeySetsOnlyOfZonesServed(t *testing.T) {
	dir := t.TempDir()
	for _, zone := range []string{gslbtest.Zone, "other.example."} {
		if _, err := dnssec.Generate(dir, zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	var zones []string
	for _, set := range ts.KeySets() {
		zones = append(zones, set.Zone)
	}
	if !slices.Equal(zones, []string{gslbtest.Zone}) {
		t.Errorf("key sets reported for %q, want only the zone served, %s", zones, gslbtest.Zone)
	}
	if m := keySetMetric(t, ts); strings.Contains(m, "other.example.") {
		t.Errorf("metric %q names a zone not served", m)
	}
}
