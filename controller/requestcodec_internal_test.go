package controller

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestUnchangedReportIsNotDecoded: an agent's StatusUnchanged message, as
// the agent encodes it, is taken without decoding and without allocating;
// anything else (an unchanged message with a field this version does not
// know, a report) is decoded as before.
func TestUnchangedReportIsNotDecoded(t *testing.T) {
	wire, err := proto.Marshal(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(wire) != string(unchangedReportWire) {
		t.Fatalf("StatusUnchanged encodes as %x, the codec looks for %x", wire, unchangedReportWire)
	}
	c := newRequestCodec()
	for name, data := range map[string]mem.BufferSlice{
		"one buffer":  {mem.SliceBuffer(wire)},
		"two buffers": {mem.SliceBuffer(wire[:1]), mem.SliceBuffer(wire[1:])},
	} {
		var m v1.ConnectRequest
		allocs := testing.AllocsPerRun(100, func() {
			m = v1.ConnectRequest{}
			if err := c.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
		})
		if m.GetUnchanged() == nil {
			t.Fatalf("%s: decoded %v, want an unchanged report", name, &m)
		}
		if name == "one buffer" && allocs != 0 {
			t.Errorf("%s: %v allocations per unchanged report, want 0", name, allocs)
		}
	}

	// An unknown field in StatusUnchanged (field 1, varint 1) and a full
	// report go through the decoder.
	for _, want := range []*v1.ConnectRequest{
		{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}},
		{Msg: &v1.ConnectRequest_Status{Status: &v1.PopStatus{Pop: "tokyo", ConfigRevision: 7}}},
	} {
		b, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if want.GetUnchanged() != nil {
			b = []byte{3<<3 | 2, 2, 1 << 3, 1}
			want.GetUnchanged().ProtoReflect().SetUnknown([]byte{1 << 3, 1})
		}
		got := &v1.ConnectRequest{}
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got); err != nil {
			t.Fatal(err)
		}
		if err := c.refusal("test", got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%x decoded (-want +got):\n%s", b, diff)
		}
		if got.GetUnchanged() == unchangedReport.Unchanged {
			t.Errorf("%x: taken as the shared unchanged report", b)
		}
	}
}
