package dnssec

import (
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTimingStates checks a key's state through its timing, BIND's way: a
// time not set is never, a key without Publish is published from its
// activation, and a key with no timing at all is published and signs.
func TestTimingStates(t *testing.T) {
	h := time.Hour
	at := func(d time.Duration) time.Time { return now.Add(d) }
	for _, tc := range []struct {
		name              string
		timing            Timing
		when              time.Duration
		published, active bool
		next              time.Duration // 0: none
	}{
		{"no timing at all", Timing{}, 0, true, true, 0},
		{"created only: a standby key", Timing{Created: at(-h)}, 0, false, false, 0},
		{"published ahead of activation", Timing{Publish: at(-h), Activate: at(h)}, 0, true, false, h},
		{"activated", Timing{Publish: at(-h), Activate: at(h)}, 2 * h, true, true, 0},
		{"activate none", Timing{Publish: at(-h)}, 0, true, false, 0},
		{"publish none, activated", Timing{Activate: at(-h)}, 0, true, true, 0},
		{"publish none, not yet activated", Timing{Activate: at(h)}, 0, false, false, h},
		{"inactive, still published", Timing{Publish: at(-2 * h), Activate: at(-2 * h), Inactive: at(-h), Delete: at(h)}, 0, true, false, h},
		{"deleted", Timing{Publish: at(-2 * h), Activate: at(-2 * h), Inactive: at(-h), Delete: at(-h)}, 0, false, false, 0},
		{"revoke ahead", Timing{Publish: at(-h), Activate: at(-h), Revoke: at(h)}, 0, true, true, h},
		{"revoked: published, signing the DNSKEY RRset only", Timing{Publish: at(-2 * h), Activate: at(-2 * h), Revoke: at(-h), Delete: at(h)}, 0, true, false, h},
		{"revoked and deleted", Timing{Publish: at(-2 * h), Activate: at(-2 * h), Revoke: at(-h), Delete: at(-h)}, 0, false, false, 0},
		{"at the inactive second", Timing{Publish: at(-h), Activate: at(-h), Inactive: at(0), Delete: at(h)}, 0, true, false, h},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &Key{DNSKEY: &dns.DNSKEY{}, Timing: tc.timing}
			w := at(tc.when)
			if k.Published(w) != tc.published || k.Active(w) != tc.active {
				t.Errorf("published %v active %v, want %v %v", k.Published(w), k.Active(w), tc.published, tc.active)
			}
			want := time.Time{}
			if tc.next != 0 {
				want = at(tc.next)
			}
			if got := k.NextEvent(w); !got.Equal(want) {
				t.Errorf("next event %v, want %v", got, want)
			}
		})
	}
}

// TestTimingFileRoundTrip writes every timing field, the DS ones too, and
// reads them back; an Activate left out of the file stays unset.
func TestTimingFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, KSK, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Timing{Created: now, Publish: now, SyncPublish: now.Add(time.Hour), Revoke: now.Add(2 * time.Hour), Inactive: now.Add(3 * time.Hour), Delete: now.Add(4 * time.Hour), SyncDelete: now.Add(5 * time.Hour)}
	if err := k.SetTiming(want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(k.File + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if got.Timing != want {
		t.Errorf("timing read back %+v, want %+v", got.Timing, want)
	}
	if got.Active(now.Add(2 * time.Hour)) {
		t.Error("a key without Activate signs")
	}

	// A temporary file left by a crash, readable by others, does not
	// pass its mode on to the private key written through it.
	if err := os.WriteFile(k.File+".private.tmp", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := k.SetTiming(want); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(k.File + ".private"); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private file after a stale temporary file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
}
