package dnssec

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestBINDSettimeReadsOurKeys has BIND's dnssec-settime, which nobody
// here wrote, change the timing of a key of each role made by Generate
// and SetTiming, and reads back what it wrote: BIND refuses a private
// file with a line it does not know.
func TestBINDSettimeReadsOurKeys(t *testing.T) {
	if _, err := exec.LookPath("dnssec-settime"); err != nil {
		t.Fatal("dnssec-settime is missing: make test-deps installs bind9-utils")
	}
	for _, role := range []Role{CSK, KSK, ZSK} {
		t.Run(role.String(), func(t *testing.T) {
			dir := t.TempDir()
			k, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, role, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.SetTiming(Timing{Created: now, Publish: now, Activate: now.Add(time.Hour), SyncPublish: now.Add(2 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if got, err := Load(k.File); err != nil || got.Role != role {
				t.Fatalf("key read back: %v, %v; want role %s", got, err, role)
			}
			if out, err := exec.Command("dnssec-settime", "-K", dir, "-I", "20261210000000", "-D", "20261211000000", filepath.Base(k.File)).CombinedOutput(); err != nil {
				t.Fatalf("dnssec-settime: %v\n%s", err, out)
			}
			got, err := Load(k.File)
			if err != nil {
				t.Fatal(err)
			}
			want := Timing{Created: now, Publish: now, Activate: now.Add(time.Hour), SyncPublish: now.Add(2 * time.Hour),
				Inactive: time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), Delete: time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC)}
			if got.Timing != want {
				t.Errorf("timing after dnssec-settime %+v, want %+v", got.Timing, want)
			}
			if got.Tag() != k.Tag() || (got.Role == ZSK) != (role == ZSK) {
				t.Errorf("key after dnssec-settime: %s, want %s", got, k)
			}
		})
	}
}
