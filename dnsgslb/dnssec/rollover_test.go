package dnssec

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var ttls = RolloverTTLs{DNSKEY: time.Hour, Max: 24 * time.Hour, DS: 2 * 24 * time.Hour, Propagation: 30 * time.Minute}

// reload reads dir's keys of example.com. back from the files, by tag.
func reload(t *testing.T, dir string) map[uint16]*Key {
	t.Helper()
	keys, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint16]*Key{}
	for _, k := range keys["example.com."] {
		out[k.Tag()] = k
	}
	return out
}

func keysOf(m map[uint16]*Key) []*Key {
	var out []*Key
	for _, k := range m {
		out = append(out, k)
	}
	return out
}

func checkTiming(t *testing.T, what string, k *Key, want Timing) {
	t.Helper()
	want.Created = k.Created
	if k.Timing != want {
		t.Errorf("%s key %d timing\n got %+v\nwant %+v", what, k.Tag(), k.Timing, want)
	}
}

// TestZSKRollover schedules a whole pre-publish ZSK rollover: the new
// ZSK signs once the DNSKEY RRset with it reached every cache, the old
// one leaves once its signatures did.
func TestZSKRollover(t *testing.T) {
	dir := t.TempDir()
	ksk, _ := Generate(dir, "example.com.", dns.ECDSAP256SHA256, KSK, now.Add(-time.Hour))
	zsk, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, ZSK, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r, err := StartRollover(dir, "example.com", keysOf(reload(t, dir)), ZSK, ttls, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Predecessor) != 1 || r.Predecessor[0].Tag() != zsk.Tag() || r.Successor.Role != ZSK {
		t.Fatalf("rollover %+v", r)
	}
	switchAt := now.Add(90 * time.Minute)
	got := reload(t, dir)
	checkTiming(t, "new", got[r.Successor.Tag()], Timing{Publish: now, Activate: switchAt})
	h := time.Hour
	checkTiming(t, "old", got[zsk.Tag()], Timing{Publish: now.Add(-h), Activate: now.Add(-h), Inactive: switchAt, Delete: switchAt.Add(30*time.Minute + 24*h)})
	checkTiming(t, "KSK", got[ksk.Tag()], Timing{Publish: now.Add(-h), Activate: now.Add(-h)})

	// One rollover at a time.
	before := listFiles(t, dir)
	if _, err := StartRollover(dir, "example.com", keysOf(got), ZSK, ttls, now.Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "rollover is under way: key") {
		t.Errorf("second rollover: %v", err)
	}
	if after := listFiles(t, dir); after != before {
		t.Errorf("refused rollover changed the files:\n%s\n%s", before, after)
	}
	// After the switch, the new ZSK is the one to roll.
	r2, err := StartRollover(dir, "example.com", keysOf(got), ZSK, ttls, switchAt)
	if err != nil || r2.Predecessor[0].Tag() != r.Successor.Tag() {
		t.Errorf("rollover after the switch: %v, %+v", err, r2)
	}
}

func listFiles(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, e := range ents {
		b, _ := os.ReadFile(dir + "/" + e.Name())
		sb.WriteString(e.Name() + "\n" + string(b))
	}
	return sb.String()
}

// TestDoubleDSRollover walks a KSK and a CSK rollover: the successor is
// published and signs nothing until the parent serves its DS; then it
// signs once every cache dropped the old DS RRset, and the old DS leaves
// the parent, and the old key the zone, once no cache needs them.
func TestDoubleDSRollover(t *testing.T) {
	for _, role := range []Role{KSK, CSK} {
		t.Run(role.String(), func(t *testing.T) {
			dir := t.TempDir()
			old, err := Generate(dir, "example.com.", dns.ED25519, role, now.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if role == KSK {
				Generate(dir, "example.com.", dns.ED25519, ZSK, now.Add(-time.Hour))
			}
			if _, err := DSPublished("example.com.", keysOf(reload(t, dir)), 0, ttls, now); err == nil || !strings.Contains(err.Error(), "no key waits for its DS") {
				t.Errorf("DS published before a rollover: %v", err)
			}
			r, err := StartRollover(dir, "example.com.", keysOf(reload(t, dir)), role, ttls, now)
			if err != nil {
				t.Fatal(err)
			}
			next := r.Successor
			if next.DNSKEY.Algorithm != dns.ED25519 || next.Role != role {
				t.Errorf("successor %s", next)
			}
			got := reload(t, dir)
			checkTiming(t, "new", got[next.Tag()], Timing{Publish: now, SyncPublish: now})
			if k := got[next.Tag()]; !k.Published(now) || k.Active(now.Add(100*24*time.Hour)) || k.DSStateAt(now) != DSHold || got[old.Tag()].DSStateAt(now) != DSHold {
				t.Errorf("successor: published %v, signs %v, DS %v; old DS %v", k.Published(now), k.Active(now), k.DSStateAt(now), got[old.Tag()].DSStateAt(now))
			}
			if _, err := StartRollover(dir, "example.com.", keysOf(got), role, ttls, now); err == nil || !strings.Contains(err.Error(), "under way") {
				t.Errorf("second rollover: %v", err)
			}
			if _, err := DSPublished("example.com.", keysOf(got), old.Tag(), ttls, now); err == nil || !strings.Contains(err.Error(), "does not wait for its DS") {
				t.Errorf("DS published for the old key: %v", err)
			}

			seen := now.Add(3 * time.Hour)
			if _, err := DSPublished("example.com.", keysOf(got), 0, ttls, seen); err != nil {
				t.Fatal(err)
			}
			switchAt := seen.Add(ttls.Propagation + ttls.DS)
			dsGone := switchAt.Add(ttls.Propagation + ttls.DNSKEY)
			del := dsGone
			if role == CSK {
				del = switchAt.Add(ttls.Propagation + ttls.Max)
			}
			got = reload(t, dir)
			checkTiming(t, "new", got[next.Tag()], Timing{Publish: now, Activate: switchAt, SyncPublish: now})
			h := time.Hour
			checkTiming(t, "old", got[old.Tag()], Timing{Publish: now.Add(-h), Activate: now.Add(-h), Inactive: switchAt, Delete: del, SyncDelete: dsGone})
			for _, tc := range []struct {
				at       time.Time
				old, new DSState
			}{{switchAt, DSHold, DSHold}, {dsGone.Add(-time.Second), DSHold, DSHold}, {dsGone, DSRemove, DSHold}} {
				if o, n := got[old.Tag()].DSStateAt(tc.at), got[next.Tag()].DSStateAt(tc.at); o != tc.old || n != tc.new {
					t.Errorf("at %v: old DS %v new DS %v, want %v %v", tc.at, o, n, tc.old, tc.new)
				}
			}
		})
	}
}

func TestRolloverRefusesWhatItCannotDo(t *testing.T) {
	dir := t.TempDir()
	Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now)
	keys := keysOf(reload(t, dir))
	before := listFiles(t, dir)
	for _, tc := range []struct {
		role Role
		ttls RolloverTTLs
		want string
	}{
		{ZSK, ttls, `zone "example.com.": no zsk to roll over`},
		{KSK, ttls, `zone "example.com.": no ksk to roll over`},
		{CSK, RolloverTTLs{DNSKEY: -time.Second}, "dnskey-ttl -1s: want a duration of zero or more"},
	} {
		if _, err := StartRollover(dir, "example.com", keys, tc.role, tc.ttls, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s rollover: %v, want %q", tc.role, err, tc.want)
		}
	}
	if after := listFiles(t, dir); after != before {
		t.Errorf("refused rollovers changed the files")
	}
}

// TestRolloverRoundsUp checks that a rollover started within a second
// publishes from the next whole second: key files time to the second, and
// rounding down would take from the propagation delay.
func TestRolloverRoundsUp(t *testing.T) {
	dir := t.TempDir()
	Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now.Add(-time.Hour))
	r, err := StartRollover(dir, "example.com.", keysOf(reload(t, dir)), CSK, ttls, now.Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if got := reload(t, dir)[r.Successor.Tag()].Publish; !got.Equal(now.Add(time.Second)) {
		t.Errorf("publish %v, want %v", got, now.Add(time.Second))
	}
	if _, err := StartRollover(dir, "example.com.", keysOf(reload(t, dir)), CSK, ttls, now.Add(400*time.Millisecond)); err == nil || !strings.Contains(err.Error(), "under way") {
		t.Errorf("second rollover before the first one's key is published: %v", err)
	}
}
