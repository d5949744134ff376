package console

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		listen string
		tls    bool
		err    string
	}{
		{"127.0.0.1:7480", false, ""},
		{"[::1]:7480", false, ""},
		{"localhost:7480", false, ""},
		{"0.0.0.0:7480", false, "plain HTTP is served on loopback only"},
		{"10.0.0.1:7480", false, "plain HTTP is served on loopback only"},
		{"10.0.0.1:7480", true, ""},
		{"7480", false, "want host:port"},
	} {
		err := CheckListen(c.listen, c.tls)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("CheckListen(%q, tls=%v) = %v, want %q", c.listen, c.tls, err, c.err)
		}
	}
}

func TestStepOf(t *testing.T) {
	now := timestamppb.New(time.Now())
	healthy := &v1.PopStatus{ReportedAt: now,
		Peers:  []*v1.PeerStatus{{Address: "192.0.2.1", State: "established"}},
		Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: true}}}
	failing := &v1.PopStatus{ReportedAt: now,
		Peers:  []*v1.PeerStatus{{Address: "192.0.2.1", State: "established"}},
		Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: false, LastResult: "timeout"}}}
	sessionDown := &v1.PopStatus{ReportedAt: now, Peers: []*v1.PeerStatus{{Address: "192.0.2.1", State: "active"}}}
	drain := func(s v1.DrainStep, draining bool) *v1.DrainState { return &v1.DrainState{Step: s, Draining: draining} }
	for _, c := range []struct {
		name string
		e    *v1.PopStatusEntry
		step string
		why  string
	}{
		{"no report", &v1.PopStatusEntry{Drain: drain(v1.DrainStep_DRAIN_STEP_WITHDRAWN, true)}, StepSilent, "no current report"},
		{"serving", &v1.PopStatusEntry{Status: healthy, Drain: drain(v1.DrainStep_DRAIN_STEP_NONE, false)}, StepServing, "every check healthy"},
		{"failing check", &v1.PopStatusEntry{Status: failing, Drain: drain(v1.DrainStep_DRAIN_STEP_NONE, false)}, StepFailing, "edge-dns check failing (timeout)"},
		{"session down", &v1.PopStatusEntry{Status: sessionDown, Drain: drain(v1.DrainStep_DRAIN_STEP_NONE, false)}, StepFailing, "session 192.0.2.1 active"},
		{"draining", &v1.PopStatusEntry{Status: failing, Drain: drain(v1.DrainStep_DRAIN_STEP_GSLB, true)}, StepDraining, "draining: gslb"},
		{"undraining", &v1.PopStatusEntry{Status: healthy, Drain: drain(v1.DrainStep_DRAIN_STEP_GRACEFUL_SHUTDOWN, false)}, StepDraining, "undraining"},
		{"drained", &v1.PopStatusEntry{Status: healthy, Drain: drain(v1.DrainStep_DRAIN_STEP_WITHDRAWN, true)}, StepDrained, "withdrawn"},
	} {
		step, why := stepOf(c.e)
		if step != c.step || !strings.Contains(why, c.why) {
			t.Errorf("%s: stepOf = %q, %q; want %q, containing %q", c.name, step, why, c.step, c.why)
		}
	}
}

func TestDiffViews(t *testing.T) {
	at := time.Now()
	prev := &view{
		Pops: []popView{{Name: "tokyo", Step: StepServing, DrainStep: "none",
			Checks:   []checkView{{Service: "edge-dns", Healthy: true}},
			Prefixes: []prefixView{{Prefix: "192.0.2.0/24", Service: "edge-dns", Announced: true}}}},
		Services: []serviceView{{Name: "edge-dns", Min: 2, Held: []string{}}},
		Origins:  []originView{{Name: "us-east", Healthy: true}},
	}
	next := &view{
		Pops: []popView{{Name: "tokyo", Step: StepFailing, Why: "edge-dns check failing", DrainStep: "none",
			Checks:   []checkView{{Service: "edge-dns", Healthy: false, LastResult: "timeout"}},
			Prefixes: []prefixView{{Prefix: "192.0.2.0/24", Service: "edge-dns", Announced: false, Reason: "health check failing"}}}},
		Services: []serviceView{{Name: "edge-dns", Min: 2, Held: []string{"tokyo"}}},
		Origins:  []originView{{Name: "us-east", Healthy: false, Reason: "3 of 4 PoPs see it down"}},
	}
	var got []string
	for _, e := range diffViews(prev, next, at) {
		got = append(got, e.Kind+": "+e.Text)
	}
	want := []string{
		"health: tokyo: serving → failing (edge-dns check failing)",
		"health: tokyo: edge-dns check down (timeout)",
		"prefix: tokyo: 192.0.2.0/24 (edge-dns) withdrawn: health check failing",
		"budget: edge-dns: budget holds tokyo announcing despite failing checks (minimum 2)",
		"origin: origin us-east down by quorum (3 of 4 PoPs see it down)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if es := diffViews(next, next, at); len(es) != 0 {
		t.Errorf("no change gave events %v", es)
	}
}

func TestCheckAction(t *testing.T) {
	k, err := newCSRFKey()
	if err != nil {
		t.Fatal(err)
	}
	admin := caller{Name: "alice", Role: "admin", CanView: true, CanDrain: true}
	other := caller{Name: "bob", Role: "admin", CanView: true, CanDrain: true}
	req := func(method, origin, ct, token string) error {
		r := httptest.NewRequest(method, "https://console.example:7480/api/pops/london/drain", strings.NewReader("{}"))
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		r.Header.Set("Content-Type", ct)
		r.Header.Set("X-Anyctl-CSRF", token)
		return k.checkAction(r, admin)
	}
	good := "https://console.example:7480"
	if err := req("POST", good, "application/json", k.token(admin)); err != nil {
		t.Errorf("a same-origin JSON POST with the token was refused: %v", err)
	}
	for name, err := range map[string]error{
		"GET":             req("GET", good, "application/json", k.token(admin)),
		"other origin":    req("POST", "https://evil.example", "application/json", k.token(admin)),
		"no origin":       req("POST", "", "application/json", k.token(admin)),
		"form":            req("POST", good, "text/plain", k.token(admin)),
		"another's token": req("POST", good, "application/json", k.token(other)),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestApplyEventsSayWho: an apply on the timeline names who made the
// writes of its revisions, from the history records, each once.
func TestApplyEventsSayWho(t *testing.T) {
	hist := []*v1.HistoryEntry{ // newest first
		{Revision: 12, Actor: "bob", Role: "admin", Operation: "rollback to revision 9"},
		{Revision: 11, Actor: "alice", Role: "admin", Operation: "apply"},
		{Revision: 10, Actor: "alice", Role: "admin", Operation: "apply"},
		{Revision: 9, Actor: "local", Operation: "apply"},
	}
	prev := map[string]int64{"origin/eu-west": 3}
	next := map[string]int64{"origin/eu-west": 5, "gslbrecord/www": 1}
	es := diffObjects(prev, next, 9, 12, time.Now(), hist)
	want := "desired state revision 12: changed origin/eu-west; created gslbrecord/www (by alice, admin: apply; bob, admin: rollback to revision 9)"
	if len(es) != 1 || es[0].Text != want {
		t.Errorf("events %+v, want one with %q", es, want)
	}
	if es := diffObjects(prev, next, 9, 12, time.Now(), nil); len(es) != 1 || strings.Contains(es[0].Text, "(by") {
		t.Errorf("without history: %+v", es)
	}
}
