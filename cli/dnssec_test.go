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

// TestDNSSECRolloverCommands walks a CSK rollover with the CLI: rollover
// prints the new DS, ds lists both for the parent, checkds schedules the
// switch and says when the old DS leaves; bad requests change no file.
func TestDNSSECRolloverCommands(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runAnyctl([]string{"dnssec", "keygen", "gslb.example.com", "--dir", dir}, ""); code != ExitOK {
		t.Fatalf("keygen: %s", errOut)
	}
	files := func() string {
		var sb strings.Builder
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			sb.WriteString(e.Name() + "\n" + string(b))
		}
		return sb.String()
	}
	before := files()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dnssec", "rollover", "gslb.example.com", "--dir", dir}, ExitUsage, `--role "": want zsk, ksk or csk`},
		{[]string{"dnssec", "rollover", "gslb.example.com", "--dir", dir, "--role", "zsk"}, ExitFailure, `zone "gslb.example.com.": no zsk to roll over`},
		{[]string{"dnssec", "rollover", "gslb.example.com", "--dir", dir, "--role", "csk", "--dnskey-ttl", "-1s"}, ExitUsage, "--dnskey-ttl -1s: want a duration of zero or more"},
		{[]string{"dnssec", "checkds", "gslb.example.com", "published", "--dir", dir}, ExitFailure, "no key waits for its DS"},
		{[]string{"dnssec", "checkds", "gslb.example.com", "--dir", dir}, ExitUsage, "want ZONE published"},
	} {
		code, _, errOut := runAnyctl(tc.args, "")
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	if files() != before {
		t.Fatal("refused commands changed the key files")
	}

	code, out, errOut := runAnyctl([]string{"dnssec", "rollover", "gslb.example.com", "--dir", dir, "--role", "csk"}, "")
	if code != ExitOK || !strings.Contains(out, "add this DS record at the parent zone now, beside the old one") || !strings.Contains(out, "a static record of type RECORD_TYPE_DS at the delegation, value \"") {
		t.Fatalf("rollover: exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = runAnyctl([]string{"dnssec", "ds", "gslb.example.com", "--dir", dir}, "")
	if n := strings.Count(out, "IN\tDS\t"); code != ExitOK || n != 2 || !strings.Contains(out, "; DS ") || !strings.Contains(out, "checkds gslb.example.com. published") {
		t.Errorf("ds during the rollover: exit %d, %d DS records:\n%s", code, n, out)
	}
	code, out, errOut = runAnyctl([]string{"dnssec", "checkds", "gslb.example.com", "published", "--dir", dir, "--ds-ttl", "2h", "--propagation", "10m"}, "")
	if code != ExitOK || !strings.Contains(out, "remove this DS record from the parent zone at or after") {
		t.Fatalf("checkds: exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = runAnyctl([]string{"dnssec", "ds", "gslb.example.com", "--dir", dir}, "")
	if code != ExitOK || strings.Count(out, "IN\tDS\t") != 2 || !strings.Contains(out, "(old key) leaves the parent at or after") {
		t.Errorf("ds after checkds: exit %d:\n%s", code, out)
	}
	code, out, _ = runAnyctl([]string{"dnssec", "list", "--dir", dir}, "")
	if code != ExitOK || strings.Count(out, "\n") != 2 || !strings.Contains(out, ": signing; publish") || !strings.Contains(out, "; DS at the parent from -") || !strings.Contains(out, "until - (") {
		t.Errorf("list after checkds: exit %d:\n%s", code, out)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if st, _ := os.Stat(filepath.Join(dir, e.Name())); strings.HasSuffix(e.Name(), ".private") && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), st.Mode().Perm())
		}
	}
}
