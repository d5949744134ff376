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
	"github.com/anyctl/anyctl/dnsgslb/dnssec/dnssectest"
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
// the revoked key's DS is the only one. The revoked key's DS is that of
// the key before the revocation, or one made from the revoked key file
// (its tag and digest over the REVOKE flag, which BIND's dnssec-dsfromkey
// does not print but tools digesting the DNSKEY as served do): the check
// reports either as the revoked key's, never as a DS of no key. The one
// of the revoked key file leads to the revoked DNSKEY, which signs the
// DNSKEY RRset while published: unbound validates through it alone, which
// the check reports apart (ThroughRevoked) from a DS of an active key,
// since RFC 5011 uses a revoked key for nothing else.
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
	revokedDS := dnssectest.KeyFileDS(t, dir, walkZone, &revoked)
	child := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, shortSnapshot()))
	parent := serveParent(t, walkZone, dsTTL, active, old)
	if _, err := dnssec.ParentDS(context.Background(), child.udp, walkZone); err == nil || !strings.Contains(err.Error(), "not of its parent") {
		t.Errorf("DS asked of the child's own server: %v, want an error saying it is not the parent's", err)
	}

	for _, tc := range []struct {
		desc           string
		ds             []*dnssec.Key
		served         []*dns.DS // beside those of ds
		stale, missing []uint16
		ofRevoked      []bool // of each stale DS
		validates      bool
		throughRevoked bool
	}{
		{desc: "the active KSK's DS and the revoked key's", ds: []*dnssec.Key{active, old}, stale: []uint16{revoked.KeyTag()}, ofRevoked: []bool{false}, validates: true},
		{desc: "the revoked key's DS alone", ds: []*dnssec.Key{old}, stale: []uint16{revoked.KeyTag()}, ofRevoked: []bool{false}, missing: []uint16{active.Tag()}},
		{desc: "the active KSK's DS and the revoked key file's", ds: []*dnssec.Key{active}, served: []*dns.DS{revokedDS},
			stale: []uint16{revoked.KeyTag()}, ofRevoked: []bool{true}, validates: true, throughRevoked: true},
		{desc: "the revoked key file's DS alone", served: []*dns.DS{revokedDS},
			stale: []uint16{revoked.KeyTag()}, ofRevoked: []bool{true}, missing: []uint16{active.Tag()}, throughRevoked: true},
		{desc: "the active KSK's DS alone", ds: []*dnssec.Key{active}, validates: true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			dss := tc.served
			for _, k := range tc.ds {
				dss = append(dss, k.DS())
			}
			parent.setDSRecords(dss...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			served, err := dnssec.ParentDS(ctx, parent.server.udp, walkZone)
			if err != nil {
				t.Fatal(err)
			}
			if len(served) != len(dss) {
				t.Fatalf("the parent serves %d DS, want %d: %v", len(served), len(dss), served)
			}
			check := dnssec.CheckParentDS(keys[walkZone], served, time.Now())
			tags := func(ks []*dnssec.Key) []uint16 {
				var out []uint16
				for _, k := range ks {
					out = append(out, k.Tag())
				}
				return out
			}
			var stale []*dnssec.Key
			var ofRevoked []bool
			for _, s := range check.Stale {
				stale = append(stale, s.Key)
				ofRevoked = append(ofRevoked, s.OfRevoked)
			}
			if got := tags(stale); !slices.Equal(got, tc.stale) || !slices.Equal(ofRevoked, tc.ofRevoked) {
				t.Errorf("DS to remove still at the parent: keys %v, of the revoked DNSKEY %v; want %v, %v", got, ofRevoked, tc.stale, tc.ofRevoked)
			}
			if got := tags(check.Missing); !slices.Equal(got, tc.missing) {
				t.Errorf("DS the parent lacks: keys %v, want %v", got, tc.missing)
			}
			if len(check.Unknown) != 0 || check.Validates != tc.validates || check.ThroughRevoked != tc.throughRevoked || check.OK() != (tc.stale == nil && tc.missing == nil) {
				t.Errorf("check %+v: want no unknown DS, Validates %v, ThroughRevoked %v, OK %v", check, tc.validates, tc.throughRevoked, tc.stale == nil && tc.missing == nil)
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
			if tc.validates || tc.throughRevoked { // unbound validates through a revoked key
				want = "NOERROR AD true"
			}
			if got != want {
				t.Errorf("unbound, with the parent's DS RRset %v: %s, want %s\n%s", served, got, want, readLog(log))
			}
		})
	}
}
