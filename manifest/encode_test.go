package manifest

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestEncodeYAML(t *testing.T) {
	o := resource.Wrap(&v1.AnycastService{
		Metadata: &v1.ObjectMeta{Name: "edge-dns", Labels: map[string]string{"tier": "edge", "app": "dns"}, ResourceVersion: 12},
		Spec: &v1.AnycastServiceSpec{
			Prefixes: []string{"192.0.2.0/24", "2001:db8:53::/48"},
			Pops:     &v1.PopSelector{All: true},
			HealthCheck: &v1.HealthCheck{
				Protocol: v1.CheckProtocol_CHECK_PROTOCOL_DNS,
				Target:   ":53",
				Interval: durationpb.New(100 * time.Millisecond),
				Timeout:  durationpb.New(time.Hour),
			},
			Announce:         &v1.AnnounceAttributes{Communities: []string{"64512:100"}, Med: proto.Uint32(0)},
			HoldDown:         durationpb.New(90 * time.Second),
			OnControllerLoss: v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE,
		},
	})
	want := `apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata:
  name: edge-dns
  labels:
    app: dns
    tier: edge
  resourceVersion: 12
spec:
  prefixes:
    - 192.0.2.0/24
    - 2001:db8:53::/48
  pops:
    all: true
  healthCheck:
    protocol: dns
    target: :53
    interval: 100ms
    timeout: 1h
  announce:
    communities:
      - 64512:100
    med: 0
  holdDown: 1m30s
  onControllerLoss: keep-last-state
---
apiVersion: anycast.anyctl.io/v1
kind: GslbRecord
metadata:
  name: r
spec:
  type: aaaa
  whenAllDown: fail-open
`
	r := resource.Wrap(&v1.GslbRecord{
		Metadata: &v1.ObjectMeta{Name: "r"},
		Spec:     &v1.GslbRecordSpec{Type: v1.RecordType_RECORD_TYPE_AAAA, WhenAllDown: v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN},
	})
	var b bytes.Buffer
	if err := Encode(&b, []*v1.Object{o, r}, FormatYAML); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if b.String() != want {
		t.Errorf("Encode yaml:\n%s\nwant:\n%s", b.String(), want)
	}
	back, err := Decode(&b, "encoded")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(back) != 2 || !proto.Equal(back[0], o) || !proto.Equal(back[1], r) {
		t.Errorf("Decode(Encode) = %v, want %v and %v", back, o, r)
	}
}

func TestEncodeJSON(t *testing.T) {
	o := resource.Wrap(&v1.Origin{
		Metadata: &v1.ObjectMeta{Name: "eu-west"},
		Spec: &v1.OriginSpec{
			Location:    &v1.Location{Latitude: 53.3498, Longitude: -6.2603, Country: "IE"},
			Addresses:   []string{"203.0.113.20"},
			TrafficDial: proto.Int32(60),
			HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP, Timeout: durationpb.New(2 * time.Second)},
		},
	})
	object := `{
  "apiVersion": "anycast.anyctl.io/v1",
  "kind": "Origin",
  "metadata": {
    "name": "eu-west"
  },
  "spec": {
    "location": {
      "latitude": 53.3498,
      "longitude": -6.2603,
      "country": "IE"
    },
    "addresses": [
      "203.0.113.20"
    ],
    "trafficDial": 60,
    "healthCheck": {
      "protocol": "http",
      "timeout": "2s"
    }
  }
}
`
	tests := []struct {
		name   string
		encode func(*bytes.Buffer) error
		want   string
	}{
		{"one object", func(b *bytes.Buffer) error { return EncodeObject(b, o, FormatJSON) }, object},
		{"a list", func(b *bytes.Buffer) error { return Encode(b, []*v1.Object{o}, FormatJSON) },
			"[\n  " + strings.ReplaceAll(strings.TrimSuffix(object, "\n"), "\n", "\n  ") + "\n]\n"},
		{"empty list", func(b *bytes.Buffer) error { return Encode(b, nil, FormatJSON) }, "[]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.encode(&b); err != nil {
				t.Fatalf("encode: %v", err)
			}
			if b.String() != tt.want {
				t.Errorf("json:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		objs   []*v1.Object
		format string
		want   string
	}{
		{"unknown format", nil, "toml", `unknown format "toml": want "yaml" or "json"`},
		{"empty object", []*v1.Object{resource.Wrap(&v1.Pop{}), {}}, FormatYAML, "encode object 2: the object holds no resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Encode(&bytes.Buffer{}, tt.objs, tt.format)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Encode error = %v, want %s", err, tt.want)
			}
		})
	}
}

// TestRoundTrip checks Decode(Encode(x)) == x in both formats, for objects
// with every field of every kind set and for awkward values.
func TestRoundTrip(t *testing.T) {
	var objs []*v1.Object
	for i, k := range resource.Kinds() {
		m := resource.NewOfKind(k)
		populate(m.ProtoReflect(), i+1)
		objs = append(objs, resource.Wrap(m))
	}
	awkward := []string{"true", "123", "null", "~", "", "2001:db8::1", "a\nb\n", "# not a comment", "key: value",
		"- item", "'quoted'", "\"dq\"", "---", "...", "0x10", "1e3", "yes", "NO", " padded ", "tab\there", "ünï", "*alias", "&anchor", "!tag"}
	for i, s := range awkward {
		objs = append(objs, resource.Wrap(&v1.Pop{
			Metadata: &v1.ObjectMeta{Name: "awkward-" + string(rune('a'+i)), Description: s, Labels: map[string]string{s: s}},
			Spec:     &v1.PopSpec{RouterId: s, UnicastAddresses: []string{s, s}},
		}))
	}
	objs = append(objs, resource.Wrap(&v1.Origin{
		Metadata: &v1.ObjectMeta{Name: "numbers", ResourceVersion: math.MaxInt64},
		Spec: &v1.OriginSpec{
			Location:    &v1.Location{Latitude: -1e-7, Longitude: 1e21},
			Weight:      math.MinInt32,
			TrafficDial: proto.Int32(0),
			Capacity:    math.MaxUint64,
			HealthCheck: &v1.HealthCheck{Interval: durationpb.New(1500 * time.Microsecond), Timeout: durationpb.New(-3 * time.Second)},
		},
	}))
	for _, format := range []string{FormatYAML, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Encode(&b, objs, format); err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := Decode(bytes.NewReader(b.Bytes()), "encoded")
			if err != nil {
				t.Fatalf("Decode: %v\n%s", err, b.String())
			}
			if len(got) != len(objs) {
				t.Fatalf("Decode returned %d objects, want %d", len(got), len(objs))
			}
			for i := range objs {
				if !proto.Equal(got[i], objs[i]) {
					t.Errorf("object %d:\ngot  %v\nwant %v", i+1, got[i], objs[i])
				}
			}
		})
	}
}

// populate sets every field of m, recursively, to a non-zero value derived
// from seed.
func populate(m protoreflect.Message, seed int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		n := seed*100 + i + 1
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j := range 2 {
				k := sampleValue(mp.NewValue, fd.MapKey(), n+j).MapKey()
				mp.Set(k, sampleValue(mp.NewValue, fd.MapValue(), n+j))
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for j := range 2 {
				l.Append(sampleValue(l.NewElement, fd, n+j))
			}
		default:
			m.Set(fd, sampleValue(func() protoreflect.Value { return m.NewField(fd) }, fd, n))
		}
	}
}

func sampleValue(fresh func() protoreflect.Value, fd protoreflect.FieldDescriptor, n int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		if fd.Message().FullName() == durationName {
			return protoreflect.ValueOfMessage(durationpb.New(time.Duration(n) * time.Millisecond).ProtoReflect())
		}
		v := fresh()
		populate(v.Message(), n)
		return v
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.Int32Kind:
		return protoreflect.ValueOfInt32(int32(-n))
	case protoreflect.Int64Kind:
		return protoreflect.ValueOfInt64(int64(n) << 40)
	case protoreflect.Uint32Kind:
		return protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Uint64Kind:
		return protoreflect.ValueOfUint64(uint64(n) << 50)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(n) + 0.25)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fd.JSONName() + "-" + string(rune('a'+n%26)))
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		return protoreflect.ValueOfEnum(values.Get(1 + n%(values.Len()-1)).Number())
	}
	panic("populate: no sample for " + fd.Kind().String())
}
