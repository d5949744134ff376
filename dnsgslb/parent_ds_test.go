package dnsgslb_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestParentDSOfRevokedKey: a child zone with a KSK, a ZSK and a KSK
// revoked by BIND's dnssec-revoke -r, its parent served by a server of
// ours with the DS RRset the test sets. The check of the parent's DS
// RRset (what anyctl dnssec ds --parent prints) asks the parent and
// reports the revoked key's DS while the parent serves it, the active
// KSK's while the parent lacks it, and whether a validating resolver can
// reach the child's keys through that DS RRset. Unbound, trusting the
// child only through the parent, with a new cache for each DS RRset, is
// the judge of that: it validates while the active KSK's DS is there,
// the revoked key's beside it or not, and fails the zone (SERVFAIL) when
// the revoked key's DS is the only one.
func TestParentDSOfRevokedKey(t *testing.T) {
	bin, err := exec.LookPath("unbound")
	if err != nil {
		bin = "/usr/sbin/unbound"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("unbound is not installed (scripts/test-deps.sh installs the Debian package unbound)")
		}
	}
	dir := t.TempDir()
	gen := func(r dnssec.Role) *dnssec.Key {
		k, err := dnssec.Generate(dir, walkZone, dns.ECDSAP256SHA256, r, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	active, _, old := gen(dnssec.KSK), gen(dnssec.ZSK), gen(dnssec.KSK)
	if out, err := exec.Command("dnssec-revoke", "-K", dir, "-r", filepath.Base(old.File)).CombinedOutput(); err != nil {
		t.Fatalf("dnssec-revoke: %v\n%s", err, out)
	}
	revoked := *old.DNSKEY
	revoked.Flags |= dns.REVOKE
	keys, err := dnssec.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	child := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, shortSnapshot()))
	parent := serveParent(t, walkZone, dsTTL, active, old)
	if _, err := dnssec.ParentDS(context.Background(), child.udp, walkZone); err == nil || !strings.Contains(err.Error(), "not of its parent") {
		t.Errorf("DS asked of the child's own server: %v, want an error saying it is not the parent's", err)
	}

	for _, tc := range []struct {
		desc           string
		ds             []*dnssec.Key
		stale, missing []uint16
		validates      bool
	}{
		{desc: "the active KSK's DS and the revoked key's", ds: []*dnssec.Key{active, old}, stale: []uint16{revoked.KeyTag()}, validates: true},
		{desc: "the revoked key's DS alone", ds: []*dnssec.Key{old}, stale: []uint16{revoked.KeyTag()}, missing: []uint16{active.Tag()}},
		{desc: "the active KSK's DS alone", ds: []*dnssec.Key{active}, validates: true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			parent.setDS(tc.ds...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			served, err := dnssec.ParentDS(ctx, parent.server.udp, walkZone)
			if err != nil {
				t.Fatal(err)
			}
			if len(served) != len(tc.ds) {
				t.Fatalf("the parent serves %d DS, want %d: %v", len(served), len(tc.ds), served)
			}
			check := dnssec.CheckParentDS(keys[walkZone], served, time.Now())
			tags := func(ks []*dnssec.Key) []uint16 {
				var out []uint16
				for _, k := range ks {
					out = append(out, k.Tag())
				}
				return out
			}
			if got := tags(check.Stale); !slices.Equal(got, tc.stale) {
				t.Errorf("DS to remove still at the parent: keys %v, want %v", got, tc.stale)
			}
			if got := tags(check.Missing); !slices.Equal(got, tc.missing) {
				t.Errorf("DS the parent lacks: keys %v, want %v", got, tc.missing)
			}
			if len(check.Unknown) != 0 || check.Validates != tc.validates || check.OK() != (tc.stale == nil && tc.missing == nil) {
				t.Errorf("check %+v: want no unknown DS, Validates %v, OK %v", check, tc.validates, tc.stale == nil && tc.missing == nil)
			}

			resolver, log := startUnboundWith(t, bin, map[string]string{
				gslbtest.Zone: parent.server.udp,
				walkZone:      child.udp,
			}, parent.anchor())
			r, err := askResolver(resolver, "www."+walkZone, dns.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%s AD %v", dns.RcodeToString[r.Rcode], r.AuthenticatedData)
			want := "SERVFAIL AD false"
			if tc.validates {
				want = "NOERROR AD true"
			}
			if got != want {
				t.Errorf("unbound, with the parent's DS RRset %v: %s, want %s\n%s", served, got, want, readLog(log))
			}
		})
	}
}
