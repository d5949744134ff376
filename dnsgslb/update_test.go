package dnsgslb_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestUpdatesAnswerWhatChanged applies one record's TTL change, then an
// origin going down, as updates (the index before each reused for what
// did not change) and checks over UDP that the changed record answers
// with its new TTL, the records naming the origin move away from it, and
// the other records answer as before. The zone's SOA serial follows the
// revision: negative answers, kept from build to build, carry the new one.
func TestUpdatesAnswerWhatChanged(t *testing.T) {
	snap := gslbtest.Snapshot()
	snap.GetZones()[0].GetSpec().GetSoa().Serial = 0
	ts := run(t, newServer(t, "", snap))
	serial := func(name string) {
		t.Helper()
		r := ts.exchange(t, "udp", msg(t, name+".gslb.example.com.", dns.TypeTXT, gslbtest.London))
		if len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Fatalf("%s TXT: answer %q authority %q, want NODATA with the SOA", name, rrs(r.Answer), rrs(r.Ns))
		}
		if got := r.Ns[0].(*dns.SOA).Serial; int64(got) != snap.GetRevision() {
			t.Errorf("%s TXT: NODATA with SOA serial %d, want the revision %d", name, got, snap.GetRevision())
		}
	}
	answer := func(name, ecs string) []string {
		t.Helper()
		r := ts.exchange(t, "udp", msg(t, name+".gslb.example.com.", dns.TypeA, ecs))
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s from %s: rcode %s", name, ecs, dns.RcodeToString[r.Rcode])
		}
		return rrs(r.Answer)
	}
	update := func(next *v1.GslbSnapshot) {
		t.Helper()
		if err := ts.Update(next); err != nil {
			t.Fatal(err)
		}
		snap = next
		serial("nearest")
		serial("failover")
	}
	before := map[string][]string{}
	names := []string{"nearest", "failover", "eu-open", "strict"}
	for _, n := range names {
		before[n] = answer(n, gslbtest.London)
	}
	if !equal(before["nearest"], []string{a("nearest", gslbtest.EUWest4)}) {
		t.Fatalf("nearest from London: %q before any change", before["nearest"])
	}
	serial("nearest")

	next := proto.Clone(snap).(*v1.GslbSnapshot)
	next.Revision++
	for _, r := range next.GetRecords() {
		if r.GetMetadata().GetName() == "nearest" {
			r.Spec.Ttl = 61
		}
	}
	update(next)
	if got, want := answer("nearest", gslbtest.London), strings.Replace(a("nearest", gslbtest.EUWest4), " 30 IN ", " 61 IN ", 1); !equal(got, []string{want}) {
		t.Errorf("nearest from London after its TTL changed: %q, want %q", got, want)
	}
	for _, n := range names[1:] {
		if got := answer(n, gslbtest.London); !equal(got, before[n]) {
			t.Errorf("%s from London after another record's TTL changed: %q, was %q", n, got, before[n])
		}
	}

	update(gslbtest.SetHealthy(proto.Clone(snap).(*v1.GslbSnapshot), "eu-west", false))
	if got, want := answer("nearest", gslbtest.London), strings.Replace(a("nearest", gslbtest.USEast4), " 30 IN ", " 61 IN ", 1); !equal(got, []string{want}) {
		t.Errorf("nearest from London with eu-west down: %q, want %q", got, want)
	}
	if got, want := answer("failover", gslbtest.London), []string{a("failover", gslbtest.USEast4), a("failover", gslbtest.APNortheast4)}; !equal(got, want) {
		t.Errorf("failover from London with eu-west down: %q, want %q", got, want)
	}
	if got := answer("nearest", gslbtest.Tokyo); !equal(got, []string{strings.Replace(a("nearest", gslbtest.APNortheast4), " 30 IN ", " 61 IN ", 1)}) {
		t.Errorf("nearest from Tokyo with eu-west down: %q", got)
	}
}
