package dnssec

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestRevokedKeyKeepsItsRole revokes a key with BIND's dnssec-revoke -r,
// which writes the revoked key (flags 385) under its new tag with BIND's
// own comment, without our role line, and removes the old files: nothing
// then says whether it was a KSK or a CSK but the zone's other keys. A
// KSK (its zone has a ZSK of its algorithm, made by us or by
// dnssec-keygen) is read back as a KSK, a CSK (no ZSK) as a CSK.
func TestRevokedKeyKeepsItsRole(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		make  func(t *testing.T, dir string) (revoke string)
		want  Role
		other int // keys left beside the revoked one
	}{
		{desc: "our KSK beside our ZSK", want: KSK, other: 2, make: func(t *testing.T, dir string) string {
			gen(t, dir, KSK)
			gen(t, dir, ZSK)
			return filepath.Base(gen(t, dir, KSK).File)
		}},
		{desc: "dnssec-keygen KSK beside its ZSK", want: KSK, other: 2, make: func(t *testing.T, dir string) string {
			bindKeygen(t, dir, "-f", "KSK")
			bindKeygen(t, dir)
			return bindKeygen(t, dir, "-f", "KSK")
		}},
		{desc: "our CSK beside our CSK", want: CSK, other: 1, make: func(t *testing.T, dir string) string {
			gen(t, dir, CSK)
			return filepath.Base(gen(t, dir, CSK).File)
		}},
		{desc: "our CSK beside a ZSK of another algorithm", want: CSK, other: 2, make: func(t *testing.T, dir string) string {
			gen(t, dir, CSK)
			if _, err := Generate(dir, "example.com.", dns.ED25519, ZSK, now.Add(-48*time.Hour)); err != nil {
				t.Fatal(err)
			}
			return filepath.Base(gen(t, dir, CSK).File)
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			name := tc.make(t, dir)
			bindTool(t, dir, "dnssec-revoke", "-r", name)
			if _, err := os.Stat(filepath.Join(dir, name+".key")); err == nil {
				t.Fatalf("dnssec-revoke -r left %s.key", name)
			}
			keys, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var revoked []*Key
			for _, k := range keys["example.com."] {
				if k.DNSKEY.Flags == dns.ZONE|dns.SEP|dns.REVOKE {
					revoked = append(revoked, k)
				}
			}
			if len(revoked) != 1 || len(keys["example.com."]) != tc.other+1 {
				t.Fatalf("keys read %v, want one with flags 385 beside %d others", keys["example.com."], tc.other)
			}
			pub, err := os.ReadFile(revoked[0].File + ".key")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(pub), "; Role:") {
				t.Fatalf("dnssec-revoke kept our role line:\n%s", pub)
			}
			if revoked[0].Role != tc.want {
				t.Errorf("revoked key read as %s, want %s (its file:\n%s)", revoked[0].Role, tc.want, pub)
			}
		})
	}
}

// gen makes a key of role for example.com., signing since two days.
func gen(t *testing.T, dir string, role Role) *Key {
	t.Helper()
	k, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, role, now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// bindKeygen makes a key for example.com. with BIND's dnssec-keygen and
// returns its file name without .key.
func bindKeygen(t *testing.T, dir string, args ...string) string {
	t.Helper()
	needBINDTool(t, "dnssec-keygen")
	args = append([]string{"-q", "-K", dir, "-a", "ECDSAP256SHA256", "-P", now.Add(-48 * time.Hour).Format(timeLayout), "-A", now.Add(-48 * time.Hour).Format(timeLayout)}, args...)
	out, err := exec.Command("dnssec-keygen", append(args, "example.com")...).CombinedOutput()
	if err != nil {
		t.Fatalf("dnssec-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
