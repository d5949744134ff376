package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestDNSSECKeygenAndDS generates a key with the CLI, and checks the DS it
// prints against the key file, and that bad flags are refused.
func TestDNSSECKeygenAndDS(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runAnyctl([]string{"dnssec", "keygen", "gslb.example.com", "--dir", dir, "--algorithm", "ed25519"}, "")
	if code != ExitOK {
		t.Fatalf("keygen: exit %d: %s", code, errOut)
	}
	pubs, _ := filepath.Glob(filepath.Join(dir, "Kgslb.example.com.+015+*.key"))
	if len(pubs) != 1 {
		t.Fatalf("key files %v", pubs)
	}
	text, err := os.ReadFile(pubs[0])
	if err != nil {
		t.Fatal(err)
	}
	rr, err := dns.ReadRR(strings.NewReader(string(text)), pubs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := rr.(*dns.DNSKEY).ToDS(dns.SHA256).String()
	if !strings.Contains(out, want) {
		t.Errorf("keygen printed %q, want the DS %q", out, want)
	}
	code, out, errOut = runAnyctl([]string{"dnssec", "ds", "gslb.example.com.", "--dir", dir}, "")
	if code != ExitOK || strings.TrimSpace(out) != want {
		t.Errorf("ds: exit %d, %q %s; want %q", code, out, errOut, want)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dnssec", "keygen", "x.example", "--dir", dir, "--algorithm", "rsasha1"}, ExitUsage, `--algorithm algorithm "rsasha1": want ecdsap256sha256 (13) or ed25519 (15)`},
		{[]string{"dnssec", "keygen", "x.example", "--dir", dir, "--role", "big"}, ExitUsage, `--role role "big": want csk, ksk or zsk`},
		{[]string{"dnssec", "keygen", "x.example"}, ExitUsage, "--dir is required"},
		{[]string{"dnssec", "ds", "other.example", "--dir", dir}, ExitFailure, `zone "other.example.": no published key-signing key`},
	} {
		code, _, errOut := runAnyctl(tc.args, "")
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	if pubs2, _ := filepath.Glob(filepath.Join(dir, "K*.key")); len(pubs2) != 1 {
		t.Errorf("refused commands left key files: %v", pubs2)
	}
}
