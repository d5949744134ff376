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

	// An unknown field in StatusUnchanged (field 15, varint 1), one naming
	// a config revision and a full report go through the decoder.
	for _, want := range []*v1.ConnectRequest{
		{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}},
		{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 9}}},
		{Msg: &v1.ConnectRequest_Status{Status: &v1.PopStatus{Pop: "tokyo", ConfigRevision: 7}}},
	} {
		b, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if want.GetUnchanged() != nil && want.GetUnchanged().GetConfigRevision() == 0 {
			b = []byte{3<<3 | 2, 2, 15 << 3, 1}
			want.GetUnchanged().ProtoReflect().SetUnknown([]byte{15 << 3, 1})
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

// TestConfigResponseSentAsEncoded: a config response built from an
// encoded config goes out as those very bytes, not a copy, and decodes to
// the config at its revision; one that also carries the first config's
// flags is encoded as usual.
func TestConfigResponseSentAsEncoded(t *testing.T) {
	c := newRequestCodec()
	cfg, err := proto.Marshal(&v1.PopConfig{Pop: "tokyo", Services: []*v1.ServiceAssignment{{Name: "edge-dns"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, first := range []bool{false, true} {
		msg := configResponse(cfg, 42)
		msg.AcceptsUnchanged, msg.AcceptsRevisionOnly = first, first
		out, err := c.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		wire := out.Materialize()
		got := &v1.ConnectResponse{}
		if err := proto.Unmarshal(wire, got); err != nil {
			t.Fatal(err)
		}
		if got.GetConfig().GetPop() != "tokyo" || got.GetConfig().GetRevision() != 42 || got.GetAcceptsUnchanged() != first {
			t.Fatalf("first %v: decoded %v", first, got)
		}
		unknown := msg.ProtoReflect().GetUnknown()
		if shared := len(out) == 1 && &out[0].ReadOnlyData()[0] == &unknown[0]; shared == first {
			t.Fatalf("first %v: sent the config's own bytes %v, want %v", first, shared, !first)
		}
	}
}

// TestSnapshotResponseSentAsEncoded: a feed response built from a snapshot
// encoded once goes out as those very bytes and decodes to the snapshot.
func TestSnapshotResponseSentAsEncoded(t *testing.T) {
	c := newRequestCodec()
	msg, err := encodedResponse(&v1.GslbSnapshot{Revision: 42, Origins: []*v1.SnapshotOrigin{{Name: "fra", Healthy: true}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	got := &v1.SubscribeResponse{}
	if err := proto.Unmarshal(out.Materialize(), got); err != nil {
		t.Fatal(err)
	}
	if got.GetSnapshot().GetRevision() != 42 || got.GetSnapshot().GetOrigins()[0].GetName() != "fra" {
		t.Fatalf("decoded %v", got)
	}
	unknown := msg.ProtoReflect().GetUnknown()
	if len(out) != 1 || &out[0].ReadOnlyData()[0] != &unknown[0] {
		t.Errorf("the encoded snapshot was copied for the stream")
	}
}

// TestSnapshotResponseWithConfirmation: a stream's confirmation sent with
// the shared encoded snapshot goes out after those bytes, uncopied, and
// the response decodes to both.
func TestSnapshotResponseWithConfirmation(t *testing.T) {
	c := newRequestCodec()
	shared, err := encodedResponse(&v1.GslbSnapshot{Revision: 42})
	if err != nil {
		t.Fatal(err)
	}
	msg := &v1.SubscribeResponse{Freshness: &v1.FeedFreshness{Confirmed: true}}
	msg.ProtoReflect().SetUnknown(shared.ProtoReflect().GetUnknown())
	out, err := c.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	got := &v1.SubscribeResponse{}
	if err := proto.Unmarshal(out.Materialize(), got); err != nil {
		t.Fatal(err)
	}
	if got.GetSnapshot().GetRevision() != 42 || !got.GetFreshness().GetConfirmed() {
		t.Fatalf("decoded %v, want the snapshot and the confirmation", got)
	}
	unknown := shared.ProtoReflect().GetUnknown()
	if len(out) != 2 || &out[0].ReadOnlyData()[0] != &unknown[0] {
		t.Errorf("the encoded snapshot was copied for the stream")
	}
}
