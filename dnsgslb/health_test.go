package dnsgslb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestHealthChanges marks eu-west down and back up with new snapshots and
// checks each record's answer for a London and a Tokyo client.
func TestHealthChanges(t *testing.T) {
	ts := startServer(t)
	type want struct {
		rcode  int
		answer []string
		// nodata is true for an answer-less NOERROR with the SOA.
		nodata bool
	}
	check := func(t *testing.T, name, ecs string, w want) {
		t.Helper()
		r := ts.exchange(t, "udp", msg(t, name+".gslb.example.com.", dns.TypeA, ecs))
		if r.Rcode != w.rcode {
			t.Errorf("%s from %s: rcode %s, want %s", name, ecs, dns.RcodeToString[r.Rcode], dns.RcodeToString[w.rcode])
		}
		if got := rrs(r.Answer); !equal(got, w.answer) {
			t.Errorf("%s from %s: answer %q, want %q", name, ecs, got, w.answer)
		}
		if w.nodata && (len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA) {
			t.Errorf("%s from %s: authority %q, want the SOA", name, ecs, rrs(r.Ns))
		}
	}
	ok := func(answer ...string) want { return want{rcode: dns.RcodeSuccess, answer: answer} }
	snap := gslbtest.Snapshot()
	steps := []struct {
		desc    string
		healthy bool
		checks  []struct {
			name, ecs string
			want      want
		}
	}{
		{"eu-west down", false, []struct {
			name, ecs string
			want      want
		}{
			{"nearest", gslbtest.London, ok(a("nearest", gslbtest.USEast4))},
			{"nearest", gslbtest.Tokyo, ok(a("nearest", gslbtest.APNortheast4))},
			{"failover", gslbtest.London, ok(a("failover", gslbtest.USEast4), a("failover", gslbtest.APNortheast4))},
			// Residency holds: EU clients never get another origin.
			{"eu-only", gslbtest.London, want{rcode: dns.RcodeSuccess, nodata: true}},
			{"eu-only", gslbtest.Frankfurt, want{rcode: dns.RcodeSuccess, nodata: true}},
			{"eu-only", gslbtest.Tokyo, ok(a("eu-only", gslbtest.APNortheast4))},
			{"eu-open", gslbtest.London, ok(a("eu-open", gslbtest.EUWest4))},
			{"eu-open", gslbtest.NewYork, ok(a("eu-open", gslbtest.USEast4))},
			{"strict", gslbtest.London, want{rcode: dns.RcodeServerFailure}},
		}},
		{"eu-west back", true, []struct {
			name, ecs string
			want      want
		}{
			{"nearest", gslbtest.London, ok(a("nearest", gslbtest.EUWest4))},
			{"failover", gslbtest.London, ok(a("failover", gslbtest.EUWest4), a("failover", gslbtest.USEast4))},
			{"eu-only", gslbtest.London, ok(a("eu-only", gslbtest.EUWest4))},
			{"strict", gslbtest.London, ok(a("strict", gslbtest.EUWest4))},
		}},
	}
	for _, st := range steps {
		t.Run(st.desc, func(t *testing.T) {
			snap = gslbtest.SetHealthy(snap, "eu-west", st.healthy)
			if err := ts.Update(snap); err != nil {
				t.Fatal(err)
			}
			if got := ts.Index().Revision(); got != snap.GetRevision() {
				t.Fatalf("serving revision %d, want %d", got, snap.GetRevision())
			}
			for _, c := range st.checks {
				check(t, c.name, c.ecs, c.want)
			}
		})
	}
}

// TestPopOutOfService drains the London PoP: hybrid answers move to the
// next nearest PoP and its cache network loses its RTTs for latency.
func TestPopOutOfService(t *testing.T) {
	ts := startServer(t)
	snap := gslbtest.Snapshot()
	for _, p := range snap.GetPops() {
		if p.GetName() == "lon" {
			p.InService = false
		}
	}
	snap.Revision++
	if err := ts.Update(snap); err != nil {
		t.Fatal(err)
	}
	r := ts.exchange(t, "udp", msg(t, "edge.gslb.example.com.", dns.TypeA, gslbtest.London))
	if got, want := rrs(r.Answer), []string{a("edge", "203.0.113.3")}; !equal(got, want) {
		t.Errorf("edge from London with lon drained: %q, want %q", got, want)
	}
}

func TestBadSnapshotKeepsServing(t *testing.T) {
	ts := startServer(t)
	bad := gslbtest.Snapshot()
	bad.Revision = 99
	bad.Origins[0].Spec.Addresses = []string{"not-an-address"}
	if err := ts.Update(bad); err == nil {
		t.Fatal("Update accepted an origin with a bad address")
	}
	if got := ts.Index().Revision(); got != 7 {
		t.Errorf("serving revision %d after a rejected update, want 7", got)
	}
	r := ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.NewYork))
	if got, want := rrs(r.Answer), []string{a("nearest", gslbtest.USEast4)}; !equal(got, want) {
		t.Errorf("answer %q, want %q", got, want)
	}
}

// TestCancelledUpdateKeepsServing gives up an update whose context has
// ended: the server keeps the snapshot it had.
func TestCancelledUpdateKeepsServing(t *testing.T) {
	ts := startServer(t)
	next := gslbtest.Snapshot()
	next.Revision = 99
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ts.UpdateContext(ctx, next); !errors.Is(err, context.Canceled) {
		t.Fatalf("UpdateContext with an ended context: %v, want context.Canceled", err)
	}
	if got := ts.Index().Revision(); got != 7 {
		t.Errorf("serving revision %d after a cancelled update, want 7", got)
	}
}
