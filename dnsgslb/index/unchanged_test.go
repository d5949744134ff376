package index

import (
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestUnchangedRecordsAreTakenAsParsed compiles a snapshot, then the next
// revision with one record's TTL changed, then one with an origin down,
// each with the index before it as Previous: only the changed record, then
// only the records naming the origin, are parsed and compiled again; the
// others keep their candidates and compiled answers (the same slices), and
// every answer is that of a compile from scratch.
func TestUnchangedRecordsAreTakenAsParsed(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	snap := gslbtest.Snapshot()
	snap.Revision = 7
	first, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	if first.parsed != len(snap.GetRecords()) {
		t.Fatalf("first build parsed %d records, want all %d", first.parsed, len(snap.GetRecords()))
	}
	check := func(prev, ix *Index, changed func(rec *record) bool) {
		t.Helper()
		scratch, err := Compile(snap, Options{GeoIP: db})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for i, rec := range ix.records {
			old := prev.records[i]
			if changed(rec) {
				want++
				continue
			}
			if &rec.cands[0] != &old.cands[0] || rec.profKey != old.profKey {
				t.Errorf("record %s: parsed again although nothing it reads changed", rec.object)
			}
			if rec.live == nil && &rec.rcs[0] != &old.rcs[0] {
				t.Errorf("record %s: answers compiled again although nothing it reads changed", rec.object)
			}
			if rec.from != nil {
				t.Errorf("record %s: still refers to the record it was taken from", rec.object)
			}
		}
		if ix.parsed != want || ix.compiled != want {
			t.Errorf("parsed %d and compiled %d records, want %d", ix.parsed, ix.compiled, want)
		}
		for i, rec := range ix.records {
			sr := scratch.records[i]
			sameAnswers(t, rec, sr, len(ix.clients))
		}
	}

	retimed := snap.GetRecords()[2]
	retimed.Spec.Ttl++
	snap.Revision++
	second, err := Compile(snap, Options{GeoIP: db, Previous: first})
	if err != nil {
		t.Fatal(err)
	}
	check(first, second, func(rec *record) bool { return rec.object == retimed.GetMetadata().GetName() })

	down := snap.GetOrigins()[1]
	down.Healthy = false
	snap.Revision++
	third, err := Compile(snap, Options{GeoIP: db, Previous: second})
	if err != nil {
		t.Fatal(err)
	}
	check(second, third, func(rec *record) bool {
		return slices.ContainsFunc(rec.cands, func(c candidate) bool { return c.name == down.GetName() })
	})
}

// TestSignedTTLChangeSignsTheChangedRecord compiles a signed zone
// answered live, then the next revision with one record's TTL changed and
// the first index given: only that record is parsed and compiled again,
// the others keep their signatures, and its answer with DO carries the new
// TTL under an RRSIG that verifies.
func TestSignedTTLChangeSignsTheChangedRecord(t *testing.T) {
	saved := liveBudget
	liveBudget = 0
	defer func() { liveBudget = saved }()
	snap := sharedSnapshot()
	db := randomDB(t, 5000, 2000)
	signers, key := testSigner(t)
	opts := Options{GeoIP: db, Signers: signers, Now: func() time.Time { return signedAt }}
	first, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	var changed *v1.GslbRecord
	for _, r := range snap.GetRecords() {
		if r.GetMetadata().GetName() == "shared" {
			changed = r
		}
	}
	changed.Spec.Ttl = 77
	snap.Revision++
	opts.Previous = first
	second, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.parsed != 1 || second.compiled != 1 {
		t.Errorf("parsed %d and compiled %d records, want 1", second.parsed, second.compiled)
	}
	for i, rec := range second.records {
		if rec.object != "shared" && rec.live != nil && rec.live.sigs != first.records[i].live.sigs {
			t.Errorf("record %s: live signatures made again although it did not change", rec.object)
		}
	}
	r := ask(t, second, "shared."+gslbtest.Zone, dns.TypeA, true)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		t.Fatalf("shared A: %v", r)
	}
	for _, rr := range r.Answer {
		if rr.Header().Ttl != 77 {
			t.Errorf("shared A with DO: %s, want TTL 77", rr)
		}
	}
	verifySection(t, "shared A", key, r.Answer)
}

// TestShiftedRecordsReuseTheirAnswers compiles a snapshot, then the next
// revision with a record inserted first, moving every other one a place
// on, then the one after with the TTL of one changed, each with the index
// before it as Previous: the moved records are parsed again (their
// positions changed) but take their compiled answers from the record of
// their name and type in the previous index, and the changed one does
// not; the answers are those of a compile from scratch.
func TestShiftedRecordsReuseTheirAnswers(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	snap := gslbtest.Snapshot()
	first, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	added := proto.Clone(snap.GetRecords()[0]).(*v1.GslbRecord)
	added.Metadata.Name, added.Spec.Name = "added", "added"
	snap.Records = append([]*v1.GslbRecord{added}, snap.Records...)
	snap.Revision++
	second, err := Compile(snap, Options{GeoIP: db, Previous: first})
	if err != nil {
		t.Fatal(err)
	}
	retimed := snap.GetRecords()[3]
	retimed.Spec.Ttl += 7
	snap.Revision++
	third, err := Compile(snap, Options{GeoIP: db, Previous: second})
	if err != nil {
		t.Fatal(err)
	}
	scratch, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	compiledAlike := func(a, b *record) bool {
		if a.live != nil || b.live != nil {
			return a.live == b.live
		}
		return &a.rcs[0] == &b.rcs[0]
	}
	for i, rec := range second.records[1:] {
		if old := first.records[i]; !compiledAlike(rec, old) {
			t.Errorf("record %s moved a place on: compiled again rather than taken from the previous index", rec.object)
		}
	}
	if second.compiled != 1 {
		t.Errorf("compiled %d records after one was added, want 1", second.compiled)
	}
	for i, rec := range third.records {
		if got, want := compiledAlike(rec, second.records[i]), rec.object != retimed.GetMetadata().GetName(); got != want {
			t.Errorf("record %s: compiled form taken from the previous index: %v, want %v", rec.object, got, want)
		}
		sr := scratch.records[i]
		if rec.ttl != sr.ttl {
			t.Errorf("record %s: TTL %d, from scratch %d", rec.object, rec.ttl, sr.ttl)
		}
		if rec.live != nil {
			continue
		}
		sameAnswers(t, rec, sr, len(third.clients))
	}
}

// sameAnswers fails the test unless rec answers every one of the classes
// as sr, the same record compiled from scratch, does.
func sameAnswers(t *testing.T, rec, sr *record, classes int) {
	t.Helper()
	for ci := range classes {
		got, exp := rec.rcs[rec.prof.rc(int32(ci))].answers, sr.rcs[sr.prof.rc(int32(ci))].answers
		if len(got) != len(exp) {
			t.Fatalf("record %s class %d: %d answers, from scratch %d", rec.object, ci, len(got), len(exp))
		}
		for k := range got {
			if string(got[k].appendTo(nil, false, rec.node.zone)) != string(exp[k].msg) {
				t.Fatalf("record %s class %d bucket %d: answer differs from a compile from scratch", rec.object, ci, k)
			}
		}
	}
}
