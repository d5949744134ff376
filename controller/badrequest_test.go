package controller_test

import (
	"context"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller/controllertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// maxErrorBytes bounds an error message about a request, whatever it holds.
const maxErrorBytes = 1024

// TestClientMistakesAreInvalidArgument sends requests a client got wrong:
// each must be refused with InvalidArgument (not Internal), a short message
// that names what is wrong, and no change to the stored state.
func TestClientMistakesAreInvalidArgument(t *testing.T) {
	r := startFleet(t)
	ctx := context.Background()
	huge := strings.Repeat("a", 3<<20)
	pop := func(name string) *v1.Object {
		return resource.Wrap(&v1.Pop{Metadata: &v1.ObjectMeta{Name: name}, Spec: &v1.PopSpec{LocalAsn: 64512, RouterId: "192.0.2.9"}})
	}
	apply := func(objs ...*v1.Object) func() error {
		return func() error {
			_, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
			return err
		}
	}
	cases := []struct {
		name string
		call func() error
		code codes.Code
		want string // a part of the message
	}{
		{"object with no resource", apply(&v1.Object{}), codes.InvalidArgument,
			"apply: objects[0] holds no resource; set one of pop, anycastService, origin, gslbZone, gslbRecord"},
		{"apply name with a slash", apply(pop("a/b")), codes.InvalidArgument,
			`apply: objects[0]: Pop "a/b": metadata.name "a/b" must not contain "/"`},
		{"apply empty name", apply(pop("")), codes.InvalidArgument,
			"apply: objects[0]: Pop: metadata.name is empty"},
		{"apply huge name", apply(pop(huge)), codes.InvalidArgument,
			`"aaaaaaaa`},
		{"apply huge name with a slash", apply(pop(huge + "/")), codes.InvalidArgument,
			`… (3145729 bytes)`},
		{"get unknown kind", func() error {
			_, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind(99), Name: "x"})
			return err
		}, codes.InvalidArgument, `unknown kind "99"`},
		{"list unknown kind", func() error {
			_, err := r.Admin.List(ctx, &v1.ListRequest{Kind: v1.Kind(99)})
			return err
		}, codes.InvalidArgument, `unknown kind "99"`},
		{"delete unknown kind", func() error {
			_, err := r.Admin.Delete(ctx, &v1.DeleteRequest{Kind: v1.Kind(99), Name: "x"})
			return err
		}, codes.InvalidArgument, `unknown kind "99"`},
		{"get name with a slash", func() error {
			_, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "a/b"})
			return err
		}, codes.InvalidArgument, `Pop "a/b": metadata.name "a/b" must not contain "/"`},
		{"get huge name", func() error {
			_, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: huge})
			return err
		}, codes.NotFound, `… (3145728 bytes)`},
		{"delete huge name with a slash", func() error {
			_, err := r.Admin.Delete(ctx, &v1.DeleteRequest{Kind: v1.Kind_KIND_POP, Name: huge + "/"})
			return err
		}, codes.InvalidArgument, `… (3145729 bytes)`},
		{"get missing", func() error {
			_, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "atlantis"})
			return err
		}, codes.NotFound, `Pop "atlantis" not found`},
		{"invalid UTF-8", func() error {
			return r.Conn.Invoke(ctx, v1.AdminService_Apply_FullMethodName, rawMessage(applyWithName("\xff\xfe")), &v1.ApplyResponse{}, grpc.ForceCodecV2(rawCodec{}))
		}, codes.InvalidArgument, "invalid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := listAll(t, r)
			err := tc.call()
			st := status.Convert(err)
			t.Logf("%v: %.300s", st.Code(), st.Message())
			if st.Code() != tc.code {
				t.Errorf("code %v, want %v (%.300s)", st.Code(), tc.code, st.Message())
			}
			if !strings.Contains(st.Message(), tc.want) {
				t.Errorf("message %.300q does not contain %q", st.Message(), tc.want)
			}
			if n := len(st.Message()); n > maxErrorBytes {
				t.Errorf("message is %d bytes, want at most %d", n, maxErrorBytes)
			}
			if after := listAll(t, r); after.GetRevision() != before.GetRevision() || len(after.GetObjects()) != len(before.GetObjects()) {
				t.Errorf("stored state changed: revision %d → %d, %d → %d objects",
					before.GetRevision(), after.GetRevision(), len(before.GetObjects()), len(after.GetObjects()))
			}
		})
	}
}

func listAll(t *testing.T, r *controllertest.Running) *v1.ListResponse {
	t.Helper()
	resp, err := r.Admin.List(context.Background(), &v1.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// applyWithName encodes, by hand, an ApplyRequest holding one Pop named
// name, which proto.Marshal refuses when name is not UTF-8.
func applyWithName(name string) []byte {
	var meta, popMsg, obj, req []byte
	meta = protowire.AppendTag(meta, 1, protowire.BytesType) // ObjectMeta.name
	meta = protowire.AppendString(meta, name)
	popMsg = protowire.AppendTag(popMsg, 1, protowire.BytesType) // Pop.metadata
	popMsg = protowire.AppendBytes(popMsg, meta)
	obj = protowire.AppendTag(obj, objectPopField(), protowire.BytesType)
	obj = protowire.AppendBytes(obj, popMsg)
	req = protowire.AppendTag(req, 1, protowire.BytesType) // ApplyRequest.objects
	return protowire.AppendBytes(req, obj)
}

// objectPopField is the field number of Object.pop.
func objectPopField() protowire.Number {
	return (&v1.Object{}).ProtoReflect().Descriptor().Fields().ByName("pop").Number()
}

// rawMessage is a request already encoded.
type rawMessage []byte

// rawCodec sends a rawMessage as it is and decodes answers as protobuf.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.(rawMessage))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

func (rawCodec) Name() string { return "proto" }
