package cookie

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSipHash checks the test vector of the SipHash paper (appendix A):
// key 00..0f, message 00..0e.
func TestSipHash(t *testing.T) {
	var k Secret
	for i := range k {
		k[i] = byte(i)
	}
	m := make([]byte, 15)
	for i := range m {
		m[i] = byte(i)
	}
	if got, want := sipHash24(&k, m), uint64(0xa129ca6149be45e5); got != want {
		t.Errorf("SipHash-2-4 = %#x, want %#x", got, want)
	}
}

// TestRFC9018 checks the examples of RFC 9018 appendix A: a cookie learnt,
// then renewed 40 minutes later.
func TestRFC9018(t *testing.T) {
	var secret Secret
	copy(secret[:], unhex(t, "e5e973e5a6b2a43f48e7dc849e37bfcf"))
	j := NewJar(secret)
	var client [8]byte
	copy(client[:], unhex(t, "2464c4abcf10c957"))
	ip := netip.MustParseAddr("198.51.100.100")

	first := j.Make(&client, ip, 1559731985)
	if got, want := hex.EncodeToString(first[:]), "010000005cf79f111f8130c3eee29480"; got != want {
		t.Fatalf("A.1 server cookie %s, want %s", got, want)
	}
	if v := j.Check(&client, first[:], ip, 1559734385); v != Valid {
		t.Errorf("A.2: the A.1 cookie 40 minutes later is %d, want Valid", v)
	}
	renewed := j.Make(&client, ip, 1559734385)
	if got, want := hex.EncodeToString(renewed[:]), "010000005cf7a871d4a564a1442aca77"; got != want {
		t.Errorf("A.2 server cookie %s, want %s", got, want)
	}
}

func TestCheck(t *testing.T) {
	var cur, prev, other Secret
	cur[0], prev[0], other[0] = 1, 2, 3
	var client [8]byte
	copy(client[:], "clientck")
	ip := netip.MustParseAddr("2001:db8::1")
	const now = 1_800_000_000
	j := NewJar(cur, prev)
	made := func(s Secret, at uint32) []byte { c := NewJar(s).Make(&client, ip, at); return c[:] }
	tests := []struct {
		desc   string
		server []byte
		ip     string
		want   Verdict
	}{
		{"none", nil, "", ClientOnly},
		{"fresh", made(cur, now), "", Valid},
		{"59 minutes old", made(cur, now-59*60), "", Valid},
		{"61 minutes old", made(cur, now-61*60), "", Invalid},
		{"4 minutes ahead", made(cur, now+4*60), "", Valid},
		{"6 minutes ahead", made(cur, now+6*60), "", Invalid},
		{"previous secret", made(prev, now), "", Valid},
		{"unknown secret", made(other, now), "", Invalid},
		{"another address", made(cur, now), "2001:db8::2", Invalid},
		{"8-byte server cookie", made(cur, now)[:8], "", Invalid},
		{"version 2", append([]byte{2}, made(cur, now)[1:]...), "", Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			at := ip
			if tc.ip != "" {
				at = netip.MustParseAddr(tc.ip)
			}
			if got := j.Check(&client, tc.server, at, now); got != tc.want {
				t.Errorf("Check = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	j := RandomJar()
	var client [8]byte
	ip := netip.MustParseAddr("192.0.2.1")
	c := j.Make(&client, ip, 1)
	if n := testing.AllocsPerRun(100, func() { j.Check(&client, c[:], ip, 2); j.Make(&client, ip, 2) }); n != 0 {
		t.Errorf("%.1f allocations, want 0", n)
	}
}

func TestParseSecrets(t *testing.T) {
	a, b := strings.Repeat("ab", 16), strings.Repeat("cd", 16)
	tests := []struct {
		desc, data, err string
		previous        int
	}{
		{desc: "current", data: a + "\n"},
		{desc: "current and previous with a comment", data: "# rolled 2026-12-01\n" + a + "\n\n" + b + "\n", previous: 1},
		{desc: "empty", data: "\n# nothing\n", err: "no secret"},
		{desc: "short", data: "abcd\n", err: "line 1: want a secret of 32 hexadecimal digits"},
		{desc: "not hex", data: a + "\n" + strings.Repeat("zz", 16), err: "line 2: want a secret"},
		{desc: "three", data: a + "\n" + b + "\n" + a, err: "line 3: a third secret"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cur, prev, err := ParseSecrets([]byte(tc.data))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(cur[:]) != a || len(prev) != tc.previous {
				t.Errorf("current %x, %d previous; want %s, %d", cur, len(prev), a, tc.previous)
			}
		})
	}
}
