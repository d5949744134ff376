package cli

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestDNSSECRevokeCommands revokes one of a zone's two keys with settime
// --revoke (RFC 5011): list shows it revoked, with the tag it is served
// under; ds no longer prints its DS for the parent, only as one to
// remove; a revocation that would come after the key left the zone is
// refused.
func TestDNSSECRevokeCommands(t *testing.T) {
	dir := t.TempDir()
	from := time.Now().Add(-time.Hour)
	active, err := dnssec.Generate(dir, "gslb.example.com.", dns.ECDSAP256SHA256, dnssec.KSK, from)
	if err != nil {
		t.Fatal(err)
	}
	old, err := dnssec.Generate(dir, "gslb.example.com.", dns.ECDSAP256SHA256, dnssec.KSK, from)
	if err != nil {
		t.Fatal(err)
	}
	revoked := *old.DNSKEY
	revoked.Flags |= dns.REVOKE

	code, _, errOut := runAnyctl([]string{"dnssec", "settime", old.File, "--delete", "+1h", "--revoke", "+2h"}, "")
	if code != ExitUsage || !strings.Contains(errOut, "--delete") || !strings.Contains(errOut, "--revoke") {
		t.Errorf("settime --revoke after --delete: exit %d, %q; want a usage error naming both", code, errOut)
	}
	code, out, errOut := runAnyctl([]string{"dnssec", "settime", old.File, "--revoke", "now"}, "")
	if code != ExitOK || !strings.Contains(out, fmt.Sprintf("revoked (served as key %d, flags 385", revoked.KeyTag())) {
		t.Fatalf("settime --revoke now: exit %d: %s%s", code, out, errOut)
	}
	k, err := dnssec.Load(old.File)
	if err != nil || k.Revoke.IsZero() {
		t.Fatalf("key after settime --revoke: %v, Revoke %v", err, k.Revoke)
	}

	code, out, _ = runAnyctl([]string{"dnssec", "list", "--dir", dir}, "")
	if code != ExitOK || !strings.Contains(out, fmt.Sprintf("revoked (served as key %d, flags 385", revoked.KeyTag())) || !strings.Contains(out, " revoke "+k.Revoke.UTC().Format(time.RFC3339)) {
		t.Errorf("list with a revoked key: exit %d:\n%s", code, out)
	}

	code, out, _ = runAnyctl([]string{"dnssec", "ds", "gslb.example.com", "--dir", dir}, "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != ExitOK || lines[0] != active.DS().String() || strings.Count(out, "IN\tDS\t") != 2 ||
		!strings.Contains(out, fmt.Sprintf("; remove from the parent (key %d, revoked", old.Tag())) || !strings.Contains(out, old.DS().String()) {
		t.Errorf("ds with a revoked key: exit %d:\n%s\nwant %s to hold, and %s to remove", code, out, active.DS(), old.DS())
	}
}

// TestDNSSECListRevokedKSK: a KSK revoked by BIND's dnssec-revoke -r
// (the revoked key's files, BIND's comment in place of our role line,
// the old files gone) is listed, and shown by settime, as the revoked KSK
// it is, not as a CSK.
func TestDNSSECListRevokedKSK(t *testing.T) {
	if _, err := exec.LookPath("dnssec-revoke"); err != nil {
		t.Fatal("dnssec-revoke is missing: make test-deps installs bind9-utils")
	}
	dir := t.TempDir()
	from := time.Now().Add(-time.Hour)
	for _, role := range []dnssec.Role{dnssec.KSK, dnssec.ZSK} {
		if _, err := dnssec.Generate(dir, "gslb.example.com.", dns.ECDSAP256SHA256, role, from); err != nil {
			t.Fatal(err)
		}
	}
	old, err := dnssec.Generate(dir, "gslb.example.com.", dns.ECDSAP256SHA256, dnssec.KSK, from)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dnssec-revoke", "-K", dir, "-r", filepath.Base(old.File)).CombinedOutput(); err != nil {
		t.Fatalf("dnssec-revoke: %v\n%s", err, out)
	}
	revoked := *old.DNSKEY
	revoked.Flags |= dns.REVOKE
	code, out, errOut := runAnyctl([]string{"dnssec", "list", "--dir", dir}, "")
	want := fmt.Sprintf("gslb.example.com. ksk ECDSAP256SHA256 key %d: revoked (served as key %d, flags 385", revoked.KeyTag(), revoked.KeyTag())
	if code != ExitOK || !strings.Contains(out, want) {
		t.Errorf("list after dnssec-revoke -r of a KSK: exit %d:\n%s%s\nwant a line with %q", code, out, errOut, want)
	}
	file := filepath.Join(dir, fmt.Sprintf("Kgslb.example.com.+013+%05d", revoked.KeyTag()))
	code, out, errOut = runAnyctl([]string{"dnssec", "settime", file, "--delete", "+31d"}, "")
	if code != ExitOK || !strings.HasPrefix(out, want) {
		t.Errorf("settime of the revoked KSK: exit %d:\n%s%s\nwant %q", code, out, errOut, want)
	}
}

// TestDNSKEYSetsShowRevokedKeys: status names a revoked key (the REVOKE
// flag) as revoked, under the tag it is served with.
func TestDNSKEYSetsShowRevokedKeys(t *testing.T) {
	set := &v1.DnssecKeySet{Zone: "a.example.", Digest: "aa", Keys: []*v1.DnssecKeyId{
		{KeyTag: 11, Algorithm: 13, Flags: 257, Signing: true}, {KeyTag: 139, Algorithm: 13, Flags: 385},
	}}
	if got, want := keyTags(set), "key 11 ECDSAP256SHA256 ksk/csk signing, key 139 ECDSAP256SHA256 ksk/csk revoked"; got != want {
		t.Errorf("keyTags %q, want %q", got, want)
	}
}
