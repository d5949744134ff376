package compile

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/anyctl/anyctl/resource"
)

func TestPopConfigUnknownPop(t *testing.T) {
	cfg, err := PopConfig(fleetState(), "gone", Observed{})
	if !errors.Is(err, ErrUnknownPop) {
		t.Fatalf("PopConfig of a missing PoP: got %v, %v; want ErrUnknownPop", cfg, err)
	}
	if !strings.Contains(err.Error(), `"gone"`) {
		t.Errorf("error %q does not name the PoP", err)
	}
}

func TestPopConfigMatchesPopConfigs(t *testing.T) {
	s, obs := fleetState(), fleetObserved()
	all := PopConfigs(s, obs)
	for _, name := range resource.SortedNames(s.Pops) {
		one, err := PopConfig(s, name, obs)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(one, all[name]) {
			t.Errorf("PopConfig(%q) differs from PopConfigs()[%q]:\n%v\n%v", name, name, one, all[name])
		}
	}
}

func TestCompileLeavesInputUnchanged(t *testing.T) {
	s, obs := fleetState(), fleetObserved()
	before := fleetState()
	configs := PopConfigs(s, obs)
	snap := GslbSnapshot(s, obs)

	// Scribble over everything compiled; none of it may reach the state.
	for _, cfg := range configs {
		for _, p := range cfg.Peers {
			p.Port, p.HoldTime.Seconds, p.Families = 1, 1, nil
		}
		for _, a := range cfg.Services {
			a.Prefixes[0] = "0.0.0.0/0"
			a.HealthCheck.Rise, a.HealthCheck.Interval.Seconds = 99, 99
			a.Announce.AsPathPrepend = 99
			if a.Announce.Med != nil {
				*a.Announce.Med = 99
			}
			a.HoldDown.Seconds = 99
		}
		for _, p := range cfg.OriginProbes {
			p.Addresses[0] = "0.0.0.0"
			p.HealthCheck.Target = "x:1"
		}
	}
	for _, z := range snap.Zones {
		z.Spec.Zone, z.Spec.Soa.Rname = "x.", "x."
		z.Metadata.Name = "x"
	}
	for _, r := range snap.Records {
		r.Spec.Name = "x."
		r.Spec.Origins = append(r.Spec.Origins[:0], "x")
	}
	for _, o := range snap.Origins {
		o.Spec.Addresses = append(o.Spec.Addresses[:0], "x")
		*o.Spec.TrafficDial = 1
	}
	for _, p := range snap.Pops {
		p.Location.Latitude = 0
		if len(p.UnicastAddresses) > 0 {
			p.UnicastAddresses[0] = "x"
		}
	}

	for _, want := range before.Objects() {
		ref := resource.RefOf(want)
		if got := s.Get(ref); !proto.Equal(got, want) {
			t.Errorf("compiling changed %s:\n got %v\nwant %v", ref, got, want)
		}
	}
	if obs.Drain["fra"] != DrainGslb || len(obs.RTT["fra"]) != 2 {
		t.Errorf("compiling changed the observed state: %v", obs)
	}
}

func TestCompileIsDeterministic(t *testing.T) {
	first := PopConfigs(fleetState(), fleetObserved())
	firstSnap := GslbSnapshot(fleetState(), fleetObserved())
	for range 5 {
		again := PopConfigs(fleetState(), fleetObserved())
		for name, cfg := range first {
			if a, b := stableJSON(t, cfg), stableJSON(t, again[name]); string(a) != string(b) {
				t.Fatalf("PopConfigs output for %q changed between runs", name)
			}
		}
		if a, b := stableJSON(t, firstSnap), stableJSON(t, GslbSnapshot(fleetState(), fleetObserved())); string(a) != string(b) {
			t.Fatal("GslbSnapshot output changed between runs")
		}
	}
}

func TestServiceModes(t *testing.T) {
	configs := PopConfigs(fleetState(), fleetObserved())
	tests := []struct {
		pop      string
		services string
		mode     v1.AnnounceMode
		prepend  uint32
	}{
		{"ams", "resolver,web", v1.AnnounceMode_ANNOUNCE_MODE_NORMAL, 0},
		{"fra", "api,resolver,web", v1.AnnounceMode_ANNOUNCE_MODE_NORMAL, 0},
		{"lhr", "resolver,web", v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN, 0},
		{"nrt", "resolver,video,web", v1.AnnounceMode_ANNOUNCE_MODE_DRAINING, DrainPrepend},
		{"sin", "resolver,video,web", v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN, 0},
		{"iad", "api,web", v1.AnnounceMode_ANNOUNCE_MODE_NORMAL, 0},
		{"sjc", "video,web", v1.AnnounceMode_ANNOUNCE_MODE_NORMAL, 0},
	}
	for _, tt := range tests {
		t.Run(tt.pop, func(t *testing.T) {
			var names []string
			for _, a := range configs[tt.pop].GetServices() {
				names = append(names, a.Name)
				if a.Mode != tt.mode || a.DrainPrepend != tt.prepend {
					t.Errorf("service %q: mode %v drain_prepend %d, want %v %d", a.Name, a.Mode, a.DrainPrepend, tt.mode, tt.prepend)
				}
			}
			if got := strings.Join(names, ","); got != tt.services {
				t.Errorf("services %q, want %q", got, tt.services)
			}
		})
	}
}

func TestOriginProbes(t *testing.T) {
	cfg, err := PopConfig(fleetState(), "sjc", Observed{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.OriginProbes {
		got = append(got, p.Origin)
	}
	// origin-spare is used by no record, so nobody probes it.
	if strings.Join(got, ",") != "origin-ap,origin-eu,origin-us" {
		t.Errorf("origin probes %q, want origin-ap,origin-eu,origin-us", got)
	}
	us := cfg.OriginProbes[2].HealthCheck
	if us.Protocol != v1.CheckProtocol_CHECK_PROTOCOL_TCP || us.Target != ":443" {
		t.Errorf("origin without a check is probed with %v %q, want tcp \":443\"", us.Protocol, us.Target)
	}
}

func TestSnapshotPopsAndOrigins(t *testing.T) {
	snap := GslbSnapshot(fleetState(), fleetObserved())
	inService := map[string]bool{}
	for _, p := range snap.Pops {
		inService[p.Name] = p.InService
	}
	want := map[string]bool{"ams": true, "fra": false, "iad": true, "lhr": false, "nrt": false, "sin": false, "sjc": true}
	for name, w := range want {
		if inService[name] != w {
			t.Errorf("PoP %q in_service = %v, want %v", name, inService[name], w)
		}
	}
	health := map[string]*v1.SnapshotOrigin{}
	for _, o := range snap.Origins {
		health[o.Name] = o
	}
	if o := health["origin-us"]; o.Healthy || o.HealthReason != "4 of 5 vantage points see it down" {
		t.Errorf("origin-us: healthy %v reason %q; want the observed verdict", o.Healthy, o.HealthReason)
	}
	if o := health["origin-ap"]; !o.Healthy || o.HealthReason == "" {
		t.Errorf("origin-ap, not observed: healthy %v reason %q; want healthy with a reason", o.Healthy, o.HealthReason)
	}
	if snap.CompiledAt != nil {
		t.Errorf("compiled_at = %v, want unset for the caller to stamp", snap.CompiledAt)
	}
}

func TestSnapshotRTT(t *testing.T) {
	snap := GslbSnapshot(fleetState(), Observed{RTT: map[string]map[string]time.Duration{
		"fra":   {"origin-eu": 4 * time.Millisecond, "origin-gone": time.Millisecond},
		"ghost": {"origin-eu": time.Millisecond},
	}})
	for _, p := range snap.Pops {
		switch p.Name {
		case "fra":
			if len(p.Rtt) != 1 || !proto.Equal(p.Rtt["origin-eu"], durationpb.New(4*time.Millisecond)) {
				t.Errorf("fra rtt = %v, want only origin-eu 4ms", p.Rtt)
			}
		default:
			if p.Rtt != nil {
				t.Errorf("PoP %q rtt = %v, want none", p.Name, p.Rtt)
			}
		}
	}
}

func TestEmptyState(t *testing.T) {
	s := resource.NewState()
	if got := PopConfigs(s, Observed{}); len(got) != 0 {
		t.Errorf("PopConfigs of an empty state = %v", got)
	}
	if snap := GslbSnapshot(s, Observed{}); len(snap.Zones)+len(snap.Records)+len(snap.Origins)+len(snap.Pops) != 0 {
		t.Errorf("GslbSnapshot of an empty state = %v", snap)
	}
}

func TestDrainStepString(t *testing.T) {
	for step, want := range map[DrainStep]string{DrainNone: "none", DrainGslb: "gslb", DrainGracefulShutdown: "graceful-shutdown", DrainWithdrawn: "withdrawn", 9: "DrainStep(9)"} {
		if got := step.String(); got != want {
			t.Errorf("DrainStep(%d).String() = %q, want %q", int(step), got, want)
		}
	}
}

// TestGslbObservedIsTheSnapshotsPart: the origins and PoPs GslbObserved
// compiles are those of GslbSnapshot, which a caller reusing the zones and
// records of an earlier snapshot of the same state relies on.
func TestGslbObservedIsTheSnapshotsPart(t *testing.T) {
	s, obs := bigFleet(60, 10)
	snap := GslbSnapshot(s, obs)
	origins, pops := GslbObserved(s, obs)
	if !slices.EqualFunc(origins, snap.GetOrigins(), func(a, b *v1.SnapshotOrigin) bool { return proto.Equal(a, b) }) ||
		!slices.EqualFunc(pops, snap.GetPops(), func(a, b *v1.SnapshotPop) bool { return proto.Equal(a, b) }) {
		t.Error("GslbObserved compiles other origins or PoPs than GslbSnapshot")
	}
}
