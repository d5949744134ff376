package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Objects the output tests print.
var (
	outputTokyo = resource.Wrap(&v1.Pop{
		Metadata: &v1.ObjectMeta{Name: "tokyo", ResourceVersion: 12, CreateRevision: 3, Labels: map[string]string{"tier": "edge", "app": "cdn"}},
		Spec: &v1.PopSpec{
			Location: &v1.Location{Latitude: 35.6762, Longitude: 139.6503, Country: "JP", City: "Tokyo"},
			LocalAsn: 64512,
			RouterId: "203.0.113.133",
			Peers: []*v1.BgpPeer{
				{Address: "203.0.113.129", PeerAsn: 64496, HoldTime: durationpb.New(90 * time.Second), Families: []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST}},
				{Address: "2001:db8:100::1", PeerAsn: 64497},
			},
			UnicastAddresses: []string{"203.0.113.132", "2001:db8:100::10"},
		},
	})
	outputBare = resource.Wrap(&v1.Pop{Metadata: &v1.ObjectMeta{Name: "bare"}})
)

func TestWriteTable(t *testing.T) {
	zones := map[string]*v1.GslbZoneSpec{"gslb": {Zone: "gslb.example.com.", DefaultTtl: 30}}
	tests := []struct {
		name string
		kind v1.Kind
		objs []*v1.Object
		want string
	}{
		{
			name: "pops", kind: v1.Kind_KIND_POP, objs: []*v1.Object{outputTokyo, outputBare},
			want: `
NAME    LOCATION   ASN     ROUTER-ID       PEERS   VERSION
tokyo   Tokyo,JP   64512   203.0.113.133   2       12
bare    -          -       -               0       0
`,
		},
		{
			name: "services", kind: v1.Kind_KIND_ANYCAST_SERVICE,
			objs: []*v1.Object{
				resource.Wrap(&v1.AnycastService{Metadata: &v1.ObjectMeta{Name: "edge-dns", ResourceVersion: 7}, Spec: &v1.AnycastServiceSpec{
					Prefixes:    []string{"192.0.2.0/24", "2001:db8:53::/48"},
					Pops:        &v1.PopSelector{All: true},
					HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_DNS, Target: ":53"},
				}}),
				resource.Wrap(&v1.AnycastService{Metadata: &v1.ObjectMeta{Name: "edge-http"}, Spec: &v1.AnycastServiceSpec{
					Prefixes:    []string{"198.51.100.0/24"},
					Pops:        &v1.PopSelector{Names: []string{"tokyo"}, Regions: []string{"emea"}},
					HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP, Target: ":80", Path: "/healthz"},
				}}),
				resource.Wrap(&v1.AnycastService{Metadata: &v1.ObjectMeta{Name: "empty"}}),
			},
			want: `
NAME        PREFIXES                        POPS                CHECK              VERSION
edge-dns    192.0.2.0/24,2001:db8:53::/48   all                 dns :53            7
edge-http   198.51.100.0/24                 tokyo,region:emea   http :80/healthz   0
empty       -                               none                -                  0
`,
		},
		{
			name: "origins", kind: v1.Kind_KIND_ORIGIN,
			objs: []*v1.Object{
				resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: "eu-west"}, Spec: &v1.OriginSpec{
					Location: &v1.Location{City: "Dublin", Country: "IE"}, Addresses: []string{"203.0.113.20", "2001:db8:f00:2::10"}, Weight: 30,
				}}),
				resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: "ap-northeast"}, Spec: &v1.OriginSpec{
					Location: &v1.Location{Country: "JP"}, Addresses: []string{"203.0.113.30"}, TrafficDial: proto.Int32(0),
				}}),
			},
			want: `
NAME           LOCATION    ADDRESSES                         WEIGHT   DIAL
eu-west        Dublin,IE   203.0.113.20,2001:db8:f00:2::10   30       100%
ap-northeast   JP          203.0.113.30                      0        0%
`,
		},
		{
			name: "zones", kind: v1.Kind_KIND_GSLB_ZONE,
			objs: []*v1.Object{resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "gslb"}, Spec: &v1.GslbZoneSpec{
				Zone: "gslb.example.com.", DefaultTtl: 30,
				NameServers: []*v1.NameServer{{Name: "ns1.gslb.example.com."}, {Name: "ns2.gslb.example.com."}},
			}})},
			want: `
NAME   ZONE                NS                                            TTL
gslb   gslb.example.com.   ns1.gslb.example.com.,ns2.gslb.example.com.   30
`,
		},
		{
			name: "records", kind: v1.Kind_KIND_GSLB_RECORD,
			objs: []*v1.Object{
				resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "origin-nearest"}, Spec: &v1.GslbRecordSpec{
					Zone: "gslb", Name: "origin", Type: v1.RecordType_RECORD_TYPE_A, Policy: v1.Policy_POLICY_NEAREST,
					Origins: []string{"us-east", "eu-west"},
				}}),
				resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "edge"}, Spec: &v1.GslbRecordSpec{
					Zone: "gslb", Name: "edge.gslb.example.com.", Type: v1.RecordType_RECORD_TYPE_AAAA, Policy: v1.Policy_POLICY_LATENCY,
					Pops: &v1.PopSelector{All: true}, Ttl: 60,
				}}),
				resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "apex"}, Spec: &v1.GslbRecordSpec{Zone: "gslb", Name: "@"}}),
				resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "lost"}, Spec: &v1.GslbRecordSpec{Zone: "missing", Name: "x"}}),
			},
			want: `
NAME             FQDN                       TYPE   POLICY    CANDIDATES        TTL
origin-nearest   origin.gslb.example.com.   A      nearest   us-east,eu-west   30
edge             edge.gslb.example.com.     AAAA   latency   pops: all         60
apex             gslb.example.com.          -      -         -                 30
lost             x                          -      -         -                 -
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeTable(&b, tt.kind, tt.objs, zones); err != nil {
				t.Fatalf("writeTable: %v", err)
			}
			if want := strings.TrimPrefix(tt.want, "\n"); b.String() != want {
				t.Errorf("writeTable:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

func TestWriteDescription(t *testing.T) {
	want := `Kind:              Pop
Name:              tokyo
Labels:            app=cdn, tier=edge
Description:       <unset>
Resource Version:  12
Create Revision:   3
Spec:
  Location:
    Latitude:   35.6762
    Longitude:  139.6503
    Country:    JP
    Continent:  <unset>
    Region:     <unset>
    City:       Tokyo
  Local ASN:          64512
  Router ID:          203.0.113.133
  Peers:
    - Address:          203.0.113.129
      Port:             <unset>
      Peer ASN:         64496
      Hold Time:        1m30s
      Password Ref:     <unset>
      Multihop TTL:     <unset>
      Local Address:    <unset>
      Families:         ipv4-unicast
      Description:      <unset>
      Announce:
        Communities:        64496:100
        Large Communities:  <none>
        MED:                <unset>
        AS Path Prepend:    1
        Services:           edge-dns
        No Services:        false
      Next Hop IPv4:    203.0.113.133
      Next Hop IPv6:    <unset>
      Max Prefixes In:  <unset>
    - Address:          2001:db8:100::1
      Port:             <unset>
      Peer ASN:         64497
      Hold Time:        <unset>
      Password Ref:     <unset>
      Multihop TTL:     <unset>
      Local Address:    <unset>
      Families:         <none>
      Description:      <unset>
      Announce:         <unset>
      Next Hop IPv4:    <unset>
      Next Hop IPv6:    <unset>
      Max Prefixes In:  <unset>
  Unicast Addresses:  203.0.113.132, 2001:db8:100::10
  Cache Networks:     <none>
  Maintenance:        false
  Next Hop IPv4:      <unset>
  Next Hop IPv6:      <unset>
`
	// The first peer's own announcement policy is shown under it.
	tokyo := proto.Clone(outputTokyo).(*v1.Object)
	first := tokyo.GetPop().GetSpec().GetPeers()[0]
	first.Announce = &v1.PeerAnnounce{Communities: []string{"64496:100"}, AsPathPrepend: 1, Services: []string{"edge-dns"}}
	first.NextHopIpv4 = "203.0.113.133"
	var b bytes.Buffer
	if err := writeDescription(&b, tokyo); err != nil {
		t.Fatalf("writeDescription: %v", err)
	}
	if b.String() != want {
		t.Errorf("writeDescription:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteDescriptionOfEveryKind(t *testing.T) {
	tests := []struct {
		obj  *v1.Object
		want []string // lines the description must hold
	}{
		{outputBare, []string{"Kind:              Pop", "Spec:              <unset>"}},
		{resource.Wrap(&v1.AnycastService{Metadata: &v1.ObjectMeta{Name: "s"}, Spec: &v1.AnycastServiceSpec{
			Announce: &v1.AnnounceAttributes{Med: proto.Uint32(0)}, HoldDown: durationpb.New(time.Hour),
		}}), []string{"    MED:                0", "    AS Path Prepend:    <unset>", "  Hold Down:            1h", "  Pops:                 <unset>"}},
		{resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "z"}, Spec: &v1.GslbZoneSpec{Soa: &v1.Soa{Mname: "ns1."}}}),
			[]string{"    MNAME:    ns1.", "  Name Servers:  <none>"}},
		{resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "r"}, Spec: &v1.GslbRecordSpec{WhenAllDown: v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL}}),
			[]string{"  When All Down:  servfail", "  Policy:         <unset>"}},
		{resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: "o"}, Spec: &v1.OriginSpec{}}), []string{"Spec:", "  Traffic Dial:  <unset>"}},
	}
	for _, tt := range tests {
		t.Run(resource.RefOf(tt.obj).String(), func(t *testing.T) {
			var b bytes.Buffer
			if err := writeDescription(&b, tt.obj); err != nil {
				t.Fatalf("writeDescription: %v", err)
			}
			lines := strings.Split(b.String(), "\n")
			for _, w := range tt.want {
				if !hasLine(lines, w) {
					t.Errorf("description lacks the line %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func TestFieldLabel(t *testing.T) {
	tests := map[string]string{
		"localAsn": "Local ASN", "routerId": "Router ID", "nextHopIpv6": "Next Hop IPv6", "asPathPrepend": "AS Path Prepend",
		"dnsRcode": "DNS RCODE", "ttl": "TTL", "whenAllDown": "When All Down", "spec": "Spec",
	}
	for in, want := range tests {
		if got := fieldLabel(in); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteApplyResults(t *testing.T) {
	resp := &v1.ApplyResponse{Results: []*v1.ApplyResult{
		{Kind: v1.Kind_KIND_POP, Name: "tokyo", Action: v1.ApplyAction_APPLY_ACTION_CREATED, Diff: "+ spec.localAsn: 64512\n"},
		{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: "edge-dns", Action: v1.ApplyAction_APPLY_ACTION_UPDATED, Diff: "- spec.med: 1\n+ spec.med: 2"},
		{Kind: v1.Kind_KIND_GSLB_RECORD, Name: "accounts", Action: v1.ApplyAction_APPLY_ACTION_UNCHANGED},
		{Kind: v1.Kind_KIND_ORIGIN, Name: "o"},
	}}
	tests := []struct {
		dryRun bool
		want   string
	}{
		{false, `pop/tokyo created
anycastservice/edge-dns configured
gslbrecord/accounts unchanged
origin/o applied
`},
		{true, `pop/tokyo created (dry run)
    + spec.localAsn: 64512
anycastservice/edge-dns configured (dry run)
    - spec.med: 1
    + spec.med: 2
gslbrecord/accounts unchanged (dry run)
origin/o applied (dry run)
`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := writeApplyResults(&b, resp, tt.dryRun); err != nil {
			t.Fatalf("writeApplyResults: %v", err)
		}
		if b.String() != tt.want {
			t.Errorf("writeApplyResults(dryRun=%v):\n%s\nwant:\n%s", tt.dryRun, b.String(), tt.want)
		}
	}
}

func TestReportApplyRejection(t *testing.T) {
	withDetails, err := status.New(codes.InvalidArgument, `Pop "tokyo": spec.localAsn: reserved`).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "spec.peers[0].address", Description: "not an address"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		err        error
		wantStderr string
		wantErr    string
	}{
		{
			name:       "one problem per line",
			err:        status.Error(codes.InvalidArgument, "Pop \"a\": spec.localAsn: reserved\nPop \"b\": spec.routerId \"x\": not an IPv4 address\n"),
			wantStderr: "Pop \"a\": spec.localAsn: reserved\nPop \"b\": spec.routerId \"x\": not an IPv4 address\n",
			wantErr:    "the controller rejected the apply (2 problems); nothing was written",
		},
		{
			name:       "field violations in the details",
			err:        withDetails.Err(),
			wantStderr: "Pop \"tokyo\": spec.localAsn: reserved\nspec.peers[0].address: not an address\n",
			wantErr:    "the controller rejected the apply (2 problems); nothing was written",
		},
		{
			name:    "other errors pass through",
			err:     status.Error(codes.Aborted, `Pop "a": resource version 1 is stale`),
			wantErr: `rpc error: code = Aborted desc = Pop "a": resource version 1 is stale`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := reportApplyRejection(&stderr, tt.err)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("reportApplyRejection error = %v, want %s", err, tt.wantErr)
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestVersionLine(t *testing.T) {
	got := versionLine("v1.2.3", "abc1234")
	if !strings.HasPrefix(got, "anyctl v1.2.3 (commit abc1234, go") {
		t.Errorf("versionLine = %q", got)
	}
	if got := buildCommit("linked"); got != "linked" {
		t.Errorf("buildCommit(%q) = %q, want the linked commit", "linked", got)
	}
}

// TestWriteSessionProblems checks that describe pop says why a session is
// not up, and the last problem of one that is.
func TestWriteSessionProblems(t *testing.T) {
	reported := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	st := &v1.PopStatus{Peers: []*v1.PeerStatus{
		{Address: "198.51.100.1", State: "active", LastProblem: "connect: dial tcp 198.51.100.1:179: i/o timeout: no answer: the neighbour is unreachable, does not expect a session from this address, or its TCP MD5 password differs (a wrong password is dropped silently)", LastProblemAt: timestamppb.New(reported.Add(-3 * time.Second))},
		{Address: "198.51.100.5", State: "established", LastProblem: "received NOTIFICATION code 6(cease) subcode 2(administrative shutdown): \"maintenance\"", LastProblemAt: timestamppb.New(reported.Add(-time.Hour))},
		{Address: "198.51.100.9", State: "established"},
	}}
	var b bytes.Buffer
	writeSessionProblems(&b, st, reported)
	want := `    198.51.100.1 not up (3s before the report): connect: dial tcp 198.51.100.1:179: i/o timeout: no answer: the neighbour is unreachable, does not expect a session from this address, or its TCP MD5 password differs (a wrong password is dropped silently)
    198.51.100.5 last problem (1h0m0s before the report): received NOTIFICATION code 6(cease) subcode 2(administrative shutdown): "maintenance"
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteStatusNotes(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	pops := []*v1.PopStatusEntry{
		{Pop: "london"},
		{Pop: "saopaulo", RefusedAgent: &v1.AgentRefusal{
			Address: "203.0.113.7:40112", At: timestamppb.New(now.Add(-3 * time.Second)), Controller: "ctl-b/10.0.0.2:7443/42",
			LiveAgentAddress: "203.0.113.5:39000", LiveAgentSince: timestamppb.New(now.Add(-time.Hour)),
		}},
		{Pop: "tokyo", Status: &v1.PopStatus{PersistedConfigRefused: `persisted config: "/var/lib/anyctl/popconfig.pb": corrupt state file: checksum mismatch`}},
	}
	var b bytes.Buffer
	writeStatusNotes(&b, pops, now)
	want := `
Notes:
  saopaulo: a second agent, from 203.0.113.7:40112, was refused 3s ago by controller ctl-b/10.0.0.2:7443/42: the PoP's live agent is from 203.0.113.5:39000 since 2026-12-05 11:00:00Z; stop one of them, or give it another PoP
  tokyo: the agent refused its persisted config at start (announcing nothing until the controller's config came): persisted config: "/var/lib/anyctl/popconfig.pb": corrupt state file: checksum mismatch
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	writeStatusNotes(&b, pops[:1], now)
	if b.String() != "" {
		t.Errorf("with nothing to note: got %q, want nothing", b.String())
	}
}
