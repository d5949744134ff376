package console

import (
	"fmt"
	"strings"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// The steps a PoP is shown in, worst first after silent.
const (
	StepServing  = "serving"
	StepDraining = "draining"
	StepDrained  = "drained"
	StepFailing  = "failing"
	StepSilent   = "silent"
)

// view is everything the pages show, pushed whole on every change.
type view struct {
	Revision  int64         `json:"revision"`
	Generated time.Time     `json:"generated"`
	Pops      []popView     `json:"pops"`
	Services  []serviceView `json:"services"`
	Origins   []originView  `json:"origins"`
	Records   []recordRef   `json:"records"`
	// GslbKey changes when the GSLB snapshot's content does: the GSLB page
	// fetches its map again then.
	GslbKey string  `json:"gslbKey"`
	Events  []event `json:"events"`
}

type popView struct {
	Name      string  `json:"name"`
	City      string  `json:"city"`
	Country   string  `json:"country"`
	Continent string  `json:"continent"`
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	// Step is serving, draining, drained, failing or silent; Why says why.
	Step           string        `json:"step"`
	Why            string        `json:"why"`
	DrainStep      string        `json:"drainStep"`
	Draining       bool          `json:"draining"`
	DrainSince     *time.Time    `json:"drainSince,omitempty"`
	ReportedAt     *time.Time    `json:"reportedAt,omitempty"`
	ConfigRevision int64         `json:"configRevision"`
	AgentVersion   string        `json:"agentVersion"`
	Announcing     []string      `json:"announcing"`
	Sessions       []sessionView `json:"sessions"`
	Prefixes       []prefixView  `json:"prefixes"`
	Checks         []checkView   `json:"checks"`
	Probes         []probeView   `json:"probes"`
}

type sessionView struct {
	Address       string     `json:"address"`
	PeerASN       uint32     `json:"peerAsn"`
	State         string     `json:"state"`
	UpSince       *time.Time `json:"upSince,omitempty"`
	Sent          uint32     `json:"sent"`
	Received      uint32     `json:"received"`
	LastProblem   string     `json:"lastProblem"`
	LastProblemAt *time.Time `json:"lastProblemAt,omitempty"`
}

type prefixView struct {
	Prefix    string `json:"prefix"`
	Service   string `json:"service"`
	Announced bool   `json:"announced"`
	Mode      string `json:"mode"`
	Reason    string `json:"reason"`
}

type checkView struct {
	Service      string  `json:"service"`
	Healthy      bool    `json:"healthy"`
	LastResult   string  `json:"lastResult"`
	Streak       uint32  `json:"streak"`
	Flaps        uint32  `json:"flaps"`
	HoldDownLeft float64 `json:"holdDownLeftSeconds"`
}

type probeView struct {
	Origin     string  `json:"origin"`
	Healthy    bool    `json:"healthy"`
	RTTms      float64 `json:"rttMs"`
	LastResult string  `json:"lastResult"`
}

type serviceView struct {
	Name       string   `json:"name"`
	Min        uint32   `json:"min"`
	Announcing []string `json:"announcing"`
	Held       []string `json:"held"`
	Below      bool     `json:"below"`
}

type originView struct {
	Name      string   `json:"name"`
	City      string   `json:"city"`
	Lat       float64  `json:"lat"`
	Lon       float64  `json:"lon"`
	Addresses []string `json:"addresses"`
	Healthy   bool     `json:"healthy"`
	Reason    string   `json:"reason"`
	Weight    int32    `json:"weight"`
	Dial      int32    `json:"dial"`
}

type recordRef struct {
	Record string `json:"record"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Policy string `json:"policy"`
}

func ts(t interface{ AsTime() time.Time }, valid bool) *time.Time {
	if !valid {
		return nil
	}
	u := t.AsTime().UTC()
	return &u
}

// buildView joins the status, the desired state and the GSLB snapshot.
func buildView(st *v1.StatusResponse, s *resource.State, snap *v1.GslbSnapshot) view {
	v := view{Revision: st.GetRevision(), Generated: time.Now().UTC()}
	for _, e := range st.GetPops() {
		v.Pops = append(v.Pops, popOf(e, s.Pops[e.GetPop()]))
	}
	for _, b := range st.GetServices() {
		v.Services = append(v.Services, serviceView{
			Name: b.GetService(), Min: b.GetMinAnnouncingPops(), Announcing: nonNil(b.GetAnnouncing()), Held: nonNil(b.GetHeld()),
			Below: uint32(len(b.GetAnnouncing())) < b.GetMinAnnouncingPops(),
		})
	}
	for _, o := range snap.GetOrigins() {
		sp := o.GetSpec()
		dial := int32(100)
		if sp.TrafficDial != nil {
			dial = sp.GetTrafficDial()
		}
		v.Origins = append(v.Origins, originView{
			Name: o.GetName(), City: sp.GetLocation().GetCity(), Lat: sp.GetLocation().GetLatitude(), Lon: sp.GetLocation().GetLongitude(),
			Addresses: sp.GetAddresses(), Healthy: o.GetHealthy(), Reason: o.GetHealthReason(), Weight: sp.GetWeight(), Dial: dial,
		})
	}
	zones := map[string]string{}
	for name, z := range s.Zones {
		zones[name] = z.GetSpec().GetZone()
	}
	for _, name := range resource.SortedNames(s.Records) {
		sp := s.Records[name].GetSpec()
		v.Records = append(v.Records, recordRef{
			Record: name, Name: fqdn(sp.GetName(), zones[sp.GetZone()]),
			Type:   strings.TrimPrefix(sp.GetType().String(), "RECORD_TYPE_"),
			Policy: strings.ToLower(strings.TrimPrefix(sp.GetPolicy().String(), "POLICY_")),
		})
	}
	v.GslbKey = snapshotKey(snap)
	return v
}

// fqdn places a record's name in its zone as the DNS server does.
func fqdn(name, zone string) string {
	switch {
	case name == "@" || name == "":
		return zone
	case strings.HasSuffix(name, "."):
		return name
	default:
		return name + "." + zone
	}
}

func popOf(e *v1.PopStatusEntry, pop *v1.Pop) popView {
	loc := pop.GetSpec().GetLocation()
	p := popView{
		Name: e.GetPop(), City: loc.GetCity(), Country: loc.GetCountry(), Continent: loc.GetContinent(),
		Lat: loc.GetLatitude(), Lon: loc.GetLongitude(),
		DrainStep: strings.ToLower(strings.TrimPrefix(e.GetDrain().GetStep().String(), "DRAIN_STEP_")),
		Draining:  e.GetDrain().GetDraining(), DrainSince: ts(e.GetDrain().GetSince(), e.GetDrain().GetSince() != nil),
		Announcing: []string{}, Sessions: []sessionView{}, Prefixes: []prefixView{}, Checks: []checkView{}, Probes: []probeView{},
	}
	r := e.GetStatus()
	if r != nil {
		p.ReportedAt = ts(r.GetReportedAt(), r.GetReportedAt() != nil)
		p.ConfigRevision, p.AgentVersion = r.GetConfigRevision(), r.GetAgentVersion()
	}
	for _, x := range r.GetPeers() {
		p.Sessions = append(p.Sessions, sessionView{
			Address: x.GetAddress(), PeerASN: x.GetPeerAsn(), State: x.GetState(), UpSince: ts(x.GetUpSince(), x.GetUpSince() != nil),
			Sent: x.GetPrefixesSent(), Received: x.GetPrefixesReceived(), LastProblem: x.GetLastProblem(),
			LastProblemAt: ts(x.GetLastProblemAt(), x.GetLastProblemAt() != nil),
		})
	}
	seen := map[string]bool{}
	for _, x := range r.GetPrefixes() {
		p.Prefixes = append(p.Prefixes, prefixView{
			Prefix: x.GetPrefix(), Service: x.GetService(), Announced: x.GetAnnounced(),
			Mode: strings.ToLower(strings.TrimPrefix(x.GetMode().String(), "ANNOUNCE_MODE_")), Reason: x.GetReason(),
		})
		if x.GetAnnounced() && !seen[x.GetService()] {
			seen[x.GetService()] = true
			p.Announcing = append(p.Announcing, x.GetService())
		}
	}
	for _, x := range r.GetChecks() {
		p.Checks = append(p.Checks, checkView{
			Service: x.GetService(), Healthy: x.GetHealthy(), LastResult: x.GetLastResult(), Streak: x.GetStreak(), Flaps: x.GetFlaps(),
			HoldDownLeft: x.GetHoldDownLeft().AsDuration().Seconds(),
		})
	}
	for _, x := range r.GetOriginProbes() {
		p.Probes = append(p.Probes, probeView{
			Origin: x.GetOrigin(), Healthy: x.GetHealthy(), RTTms: float64(x.GetRtt().AsDuration().Microseconds()) / 1000, LastResult: x.GetLastResult(),
		})
	}
	p.Step, p.Why = stepOf(e)
	return p
}

// stepOf says what a PoP is doing, in the map's colours, and why.
func stepOf(e *v1.PopStatusEntry) (string, string) {
	r := e.GetStatus()
	if r == nil {
		return StepSilent, "no current report from its agent"
	}
	switch e.GetDrain().GetStep() {
	case v1.DrainStep_DRAIN_STEP_WITHDRAWN:
		return StepDrained, "drained: announcements withdrawn"
	case v1.DrainStep_DRAIN_STEP_GSLB, v1.DrainStep_DRAIN_STEP_GRACEFUL_SHUTDOWN:
		if e.GetDrain().GetDraining() {
			return StepDraining, "draining: " + strings.ToLower(strings.TrimPrefix(e.GetDrain().GetStep().String(), "DRAIN_STEP_"))
		}
		return StepDraining, "undraining: " + strings.ToLower(strings.TrimPrefix(e.GetDrain().GetStep().String(), "DRAIN_STEP_"))
	}
	var why []string
	for _, c := range r.GetChecks() {
		if !c.GetHealthy() {
			why = append(why, fmt.Sprintf("%s check failing (%s)", c.GetService(), c.GetLastResult()))
		}
	}
	for _, x := range r.GetPeers() {
		if !strings.EqualFold(x.GetState(), "established") {
			why = append(why, fmt.Sprintf("session %s %s", x.GetAddress(), x.GetState()))
		}
	}
	if len(r.GetPeers()) == 0 {
		why = append(why, "no BGP sessions")
	}
	if len(why) > 0 {
		return StepFailing, strings.Join(why, "; ")
	}
	return StepServing, "every check healthy, every session established"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
