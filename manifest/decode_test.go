package manifest

import (
	"errors"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

const header = "apiVersion: anycast.anyctl.io/v1\n"

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // each line of the joined error, in order
	}{
		{
			name: "unknown field names source, document, object and path",
			input: "# pops\n---\n" + header + "kind: Pop\nmetadata: {name: london}\n---\n" +
				header + "kind: Pop\nmetadata: {name: osaka}\n---\n" +
				header + "kind: Pop\nmetadata:\n  name: tokyo\nspec:\n  peers:\n    - address: 192.0.2.1\n      asnn: 64500\n",
			want: []string{`pops.yaml:18: document 3 (Pop "tokyo"): spec.peers[0]: unknown field "asnn"`},
		},
		{
			name:  "type error",
			input: header + "kind: Pop\nmetadata: {name: tokyo}\nspec:\n  localAsn: abc\n",
			want:  []string{`pops.yaml:5: document 1 (Pop "tokyo"): spec.localAsn: want a number, got "abc"`},
		},
		{
			name:  "protobuf field name suggests the JSON name",
			input: header + "kind: Pop\nmetadata: {name: tokyo}\nspec: {local_asn: 1}\n",
			want:  []string{`pops.yaml:4: document 1 (Pop "tokyo"): spec: unknown field "local_asn" (did you mean "localAsn"?)`},
		},
		{
			name:  "near miss suggests the field",
			input: header + "kind: Pop\nmetadata: {name: tokyo}\nspec: {routerID: 192.0.2.1, locaAsn: 1}\n",
			want: []string{
				`pops.yaml:4: document 1 (Pop "tokyo"): spec: unknown field "routerID" (did you mean "routerId"?)`,
				`pops.yaml:4: document 1 (Pop "tokyo"): spec: unknown field "locaAsn" (did you mean "localAsn"?)`,
			},
		},
		{
			name:  "unknown top-level field",
			input: header + "kind: Pop\nmetadata: {name: tokyo}\nstatus: {}\n",
			want:  []string{`pops.yaml:4: document 1 (Pop "tokyo"): unknown field "status"`},
		},
		{
			name:  "missing apiVersion",
			input: "kind: Pop\nmetadata: {name: tokyo}\n",
			want:  []string{`pops.yaml:1: document 1: apiVersion: required: want "anycast.anyctl.io/v1"`},
		},
		{
			name:  "wrong apiVersion",
			input: "apiVersion: v1\nkind: Pop\nmetadata: {name: tokyo}\n",
			want:  []string{`pops.yaml:1: document 1: apiVersion: unknown version "v1": want "anycast.anyctl.io/v1"`},
		},
		{
			name:  "unknown kind",
			input: header + "kind: Router\nmetadata: {name: r1}\n",
			want:  []string{`pops.yaml:2: document 1: kind: unknown kind "Router": want one of Pop, AnycastService, Origin, GslbZone, GslbRecord`},
		},
		{
			name:  "kind in the wrong case",
			input: header + "kind: anycastservice\nmetadata: {name: r1}\n",
			want:  []string{`pops.yaml:2: document 1: kind: unknown kind "anycastservice" (did you mean "AnycastService"?)`},
		},
		{
			name:  "missing kind",
			input: header + "metadata: {name: r1}\n",
			want:  []string{`pops.yaml:1: document 1: kind: required: want one of Pop, AnycastService, Origin, GslbZone, GslbRecord`},
		},
		{
			name:  "missing name",
			input: header + "kind: Origin\nspec: {weight: 1}\n",
			want:  []string{`pops.yaml:1: document 1: metadata.name: required: every object needs a name`},
		},
		{
			name:  "not a mapping",
			input: "just a string\n",
			want:  []string{`pops.yaml:1: document 1: want an object with apiVersion, kind, metadata and spec, got "just a string"`},
		},
		{
			name:  "syntax error line counts from the input start",
			input: header + "kind: Pop\nmetadata: {name: a}\n---\n" + header + "kind: Pop\nmetadata: [\n",
			want:  []string{`pops.yaml:7: document 2: did not find expected node content`},
		},
		{
			name: "scalar types",
			input: header + "kind: Origin\nmetadata: {name: o}\nspec:\n  weight: 1.5\n  trafficDial: 3000000000\n" +
				"  capacity: -5\n  location: {latitude: north}\n  addresses: 203.0.113.1\n",
			want: []string{
				`pops.yaml:5: document 1 (Origin "o"): spec.weight: want a whole number, got "1.5"`,
				`pops.yaml:6: document 1 (Origin "o"): spec.trafficDial: "3000000000" is out of range: want -2147483648 to 2147483647`,
				`pops.yaml:7: document 1 (Origin "o"): spec.capacity: "-5" is out of range: want 0 to 18446744073709551615`,
				`pops.yaml:8: document 1 (Origin "o"): spec.location.latitude: want a number, got "north"`,
				`pops.yaml:9: document 1 (Origin "o"): spec.addresses: want a list, got "203.0.113.1" (for a single value write [203.0.113.1])`,
			},
		},
		{
			name: "enums, bools and durations",
			input: header + "kind: AnycastService\nmetadata: {name: s}\nspec:\n  healthCheck:\n    protocol: ftp\n" +
				"    interval: 90\n    timeout: soon\n    insecureSkipVerify: maybe\n",
			want: []string{
				`pops.yaml:6: document 1 (AnycastService "s"): spec.healthCheck.protocol: unknown value "ftp": want one of http, https, tcp, dns`,
				`pops.yaml:7: document 1 (AnycastService "s"): spec.healthCheck.interval: want a duration with a unit, got "90": write "90s"`,
				`pops.yaml:8: document 1 (AnycastService "s"): spec.healthCheck.timeout: want a duration such as "500ms", "5s" or "1m30s", got "soon"`,
				`pops.yaml:9: document 1 (AnycastService "s"): spec.healthCheck.insecureSkipVerify: want true or false, got "maybe"`,
			},
		},
		{
			name:  "structure",
			input: header + "kind: Pop\nmetadata: {name: p, labels: {a: [1]}}\nspec:\n  location: tokyo\n  peers: [null, 7]\n",
			want: []string{
				`pops.yaml:3: document 1 (Pop "p"): metadata.labels["a"]: want a string, got a list`,
				`pops.yaml:5: document 1 (Pop "p"): spec.location: want a mapping of fields, got "tokyo"`,
				`pops.yaml:6: document 1 (Pop "p"): spec.peers[0]: want a value, got null`,
				`pops.yaml:6: document 1 (Pop "p"): spec.peers[1]: want a mapping of fields, got "7"`,
			},
		},
		{
			name:  "duplicate field",
			input: header + "kind: Pop\nmetadata: {name: p}\nspec:\n  localAsn: 1\n  localAsn: 2\n",
			want:  []string{`pops.yaml:6: document 1 (Pop "p"): spec: duplicate field "localAsn"`},
		},
		{
			name:  "merge keys",
			input: header + "kind: Pop\nmetadata: {name: p}\nspec:\n  <<: {localAsn: 1}\n",
			want:  []string{`pops.yaml:5: document 1 (Pop "p"): spec: YAML merge keys (<<) are not supported: write the fields out`},
		},
		{
			name: "object declared twice",
			input: header + "kind: Pop\nmetadata: {name: p}\n---\n" + header + "kind: Origin\nmetadata: {name: p}\n---\n" +
				header + "kind: Pop\nmetadata: {name: p}\n",
			want: []string{`pops.yaml:9: document 3 (Pop "p"): declared again: first declared in pops.yaml document 1`},
		},
		{
			name:  "items of a list document",
			input: `[{"apiVersion": "anycast.anyctl.io/v1", "kind": "Pop", "metadata": {"name": "p"}}, {"kind": "Pop"}]`,
			want:  []string{`pops.yaml:1: document 1 item 2: apiVersion: required: want "anycast.anyctl.io/v1"`},
		},
		{
			name:  "text after an end marker",
			input: header + "kind: Pop\nmetadata: {name: p}\n...\nkind: Pop\n",
			want:  []string{`pops.yaml:4: document 1: did not find expected <document start>`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode(strings.NewReader(tt.input), "pops.yaml")
			if err == nil {
				t.Fatalf("Decode succeeded with %d objects, want errors:\n%s", len(objs), strings.Join(tt.want, "\n"))
			}
			if objs != nil {
				t.Errorf("Decode returned %d objects with its error, want none", len(objs))
			}
			if got := strings.Split(err.Error(), "\n"); !equalLines(got, tt.want) {
				t.Errorf("Decode error:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Errorf("Decode error %v holds no *manifest.Error", err)
			}
		})
	}
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeFriendlyForms(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  proto.Message
	}{
		{
			name: "Go durations, protobuf JSON durations and short enums",
			input: header + "kind: AnycastService\nmetadata: {name: s}\nspec:\n" +
				"  healthCheck: {protocol: http, interval: 100ms, timeout: 0.250s}\n" +
				"  holdDown: 1m30s\n  holdDownMax: 0\n  onControllerLoss: keep-last-state\n",
			want: &v1.AnycastService{
				Metadata: &v1.ObjectMeta{Name: "s"},
				Spec: &v1.AnycastServiceSpec{
					HealthCheck: &v1.HealthCheck{
						Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP,
						Interval: durationpb.New(100 * time.Millisecond),
						Timeout:  durationpb.New(250 * time.Millisecond),
					},
					HoldDown:         durationpb.New(90 * time.Second),
					HoldDownMax:      durationpb.New(0),
					OnControllerLoss: v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE,
				},
			},
		},
		{
			name: "full enum names, upper case and underscores",
			input: header + "kind: GslbRecord\nmetadata: {name: r}\nspec:\n" +
				"  type: A\n  policy: POLICY_FAILOVER\n  whenAllDown: FAIL_OPEN\n",
			want: &v1.GslbRecord{
				Metadata: &v1.ObjectMeta{Name: "r"},
				Spec: &v1.GslbRecordSpec{
					Type:        v1.RecordType_RECORD_TYPE_A,
					Policy:      v1.Policy_POLICY_FAILOVER,
					WhenAllDown: v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN,
				},
			},
		},
		{
			name: "lists, maps, optional zeros, quoted 64-bit numbers and nulls",
			input: header + "kind: Pop\nmetadata:\n  name: p\n  labels: {tier: edge, \"no\": \"1\"}\n  resourceVersion: \"12\"\n" +
				"  description: ~\nspec:\n  location: {latitude: -23.5505, longitude: 139, country: NO}\n" +
				"  peers:\n    - {address: 192.0.2.1, port: 0x10, families: [ipv4-unicast, IPV6_UNICAST]}\n" +
				"  unicastAddresses: [\"2001:db8::1\"]\n  maintenance: true\n",
			want: &v1.Pop{
				Metadata: &v1.ObjectMeta{Name: "p", Labels: map[string]string{"tier": "edge", "no": "1"}, ResourceVersion: 12},
				Spec: &v1.PopSpec{
					Location: &v1.Location{Latitude: -23.5505, Longitude: 139, Country: "NO"},
					Peers: []*v1.BgpPeer{{
						Address:  "192.0.2.1",
						Port:     16,
						Families: []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST, v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST},
					}},
					UnicastAddresses: []string{"2001:db8::1"},
					Maintenance:      true,
				},
			},
		},
		{
			name:  "optional field set to zero keeps its presence",
			input: header + "kind: Origin\nmetadata: {name: o}\nspec: {trafficDial: 0}\n",
			want:  &v1.Origin{Metadata: &v1.ObjectMeta{Name: "o"}, Spec: &v1.OriginSpec{TrafficDial: proto.Int32(0)}},
		},
		{
			name: "aliases",
			input: header + "kind: Origin\nmetadata: {name: o}\nspec:\n  healthCheck: &check {protocol: tcp, target: \"203.0.113.1:80\"}\n" +
				"  addresses: &addrs [203.0.113.1]\n",
			want: &v1.Origin{Metadata: &v1.ObjectMeta{Name: "o"}, Spec: &v1.OriginSpec{
				HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_TCP, Target: "203.0.113.1:80"},
				Addresses:   []string{"203.0.113.1"},
			}},
		},
		{
			name:  "JSON",
			input: `{"apiVersion": "anycast.anyctl.io/v1", "kind": "GslbZone", "metadata": {"name": "z"}, "spec": {"zone": "example.com.", "defaultTtl": 30}}`,
			want:  &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "z"}, Spec: &v1.GslbZoneSpec{Zone: "example.com.", DefaultTtl: 30}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode(strings.NewReader(tt.input), "t.yaml")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(objs) != 1 {
				t.Fatalf("Decode returned %d objects, want 1", len(objs))
			}
			if got := resource.Inner(objs[0]); !proto.Equal(got, tt.want) {
				t.Errorf("Decode = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestDecodeDocuments(t *testing.T) {
	pop := header + "kind: Pop\nmetadata: {name: %s}\n"
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"empty input", "", nil},
		{"comments only", "# nothing here\n", nil},
		{"leading marker", "---\n" + strings.ReplaceAll(pop, "%s", "a"), []string{"a"}},
		{"empty documents skipped", "---\n---\n# c\n---\n" + strings.ReplaceAll(pop, "%s", "a") + "---\n~\n---\n" + strings.ReplaceAll(pop, "%s", "b") + "---\n", []string{"a", "b"}},
		{"content on the marker line", "--- {apiVersion: anycast.anyctl.io/v1, kind: Pop, metadata: {name: a}}\n", []string{"a"}},
		{"end marker", strings.ReplaceAll(pop, "%s", "a") + "...\n", []string{"a"}},
		{"end marker and comments", strings.ReplaceAll(pop, "%s", "a") + "...\n# c\n", []string{"a"}},
		{"byte order mark", "\ufeff" + strings.ReplaceAll(pop, "%s", "a"), []string{"a"}},
		{"CRLF line ends", strings.ReplaceAll(strings.ReplaceAll(pop, "%s", "a")+"---\n"+strings.ReplaceAll(pop, "%s", "b"), "\n", "\r\n"), []string{"a", "b"}},
		{"marker-like text inside a block scalar", header + "kind: Pop\nmetadata:\n  name: a\n  description: |\n    ---x\n", []string{"a"}},
		{"JSON array", `[{"apiVersion": "anycast.anyctl.io/v1", "kind": "Pop", "metadata": {"name": "a"}}, {"apiVersion": "anycast.anyctl.io/v1", "kind": "Origin", "metadata": {"name": "b"}}]`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode(strings.NewReader(tt.input), "t.yaml")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var names []string
			for _, o := range objs {
				names = append(names, resource.Meta(o).GetName())
			}
			if !equalLines(names, tt.want) {
				t.Errorf("Decode names = %q, want %q", names, tt.want)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	big := header + "kind: Pop\nmetadata:\n  name: p\n  description: " + strings.Repeat("x", MaxDocumentBytes) + "\n"
	// 2000 peers, each an alias of one with 2000 address families: four
	// million values from a few kilobytes of text.
	bomb := header + "kind: Pop\nmetadata: {name: p}\nspec:\n  peers:\n    - &p\n      families: [&e ipv4-unicast" +
		strings.Repeat(", *e", 1999) + "]\n" + strings.Repeat("    - *p\n", 1999)
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"document over the limit", big, "t.yaml:1: document 1: document is larger than 1048576 bytes"},
		{"input over the limit", strings.Repeat("# comment\n---\n", MaxInputBytes/14+1), "t.yaml: input is larger than 16777216 bytes: split it into several files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.input), "t.yaml")
			if err == nil || err.Error() != tt.want {
				t.Errorf("Decode error = %v, want %s", err, tt.want)
			}
		})
	}
	t.Run("alias expansion", func(t *testing.T) {
		_, err := Decode(strings.NewReader(bomb), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), "expands to more than") {
			t.Errorf("Decode error = %v, want the alias expansion limit", err)
		}
	})
}
