package controller

import (
	"bytes"
	"context"
	"sync"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// requestCodec is the protobuf codec with two differences. A request that
// does not decode (a string that is not UTF-8, a truncated field) is the
// client's mistake, answered InvalidArgument, where gRPC itself answers
// Internal for any decoding failure. Unmarshal records the failure against
// the message and reports success; the interceptors, which run between the
// decoding and the handler, find the record and refuse the call. And an
// agent's unchanged report is recognised by its two bytes, not decoded.
type requestCodec struct {
	base encoding.CodecV2
	// bad guards nothing: it is a sync.Map of message pointer → the error
	// decoding it, each entry removed by the interceptor that sees it.
	bad sync.Map
}

func newRequestCodec() *requestCodec {
	return &requestCodec{base: encoding.GetCodecV2(protocodec.Name)}
}

func (c *requestCodec) Name() string { return c.base.Name() }

// Marshal encodes v; a config response that carries its config already
// encoded (configResponse), or a feed response its snapshot
// (encodedResponse), and nothing else, is sent as those bytes, not copied
// once more for every agent or DNS server.
func (c *requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *v1.ConnectResponse:
		if m.Msg == nil && !m.AcceptsUnchanged && !m.AcceptsRevisionOnly {
			if b := m.ProtoReflect().GetUnknown(); len(b) > 0 {
				return mem.BufferSlice{mem.SliceBuffer(b)}, nil
			}
		}
	case *v1.SubscribeResponse:
		if m.Snapshot == nil {
			if b := m.ProtoReflect().GetUnknown(); len(b) > 0 {
				if m.Freshness == nil {
					return mem.BufferSlice{mem.SliceBuffer(b)}, nil
				}
				// The stream's confirmation follows the shared bytes:
				// fields of a message may come in any order.
				fb, err := proto.Marshal(&v1.SubscribeResponse{Freshness: m.Freshness})
				if err != nil {
					return nil, err
				}
				return mem.BufferSlice{mem.SliceBuffer(b), mem.SliceBuffer(fb)}, nil
			}
		}
	}
	return c.base.Marshal(v)
}

func (c *requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*v1.ConnectRequest); ok && isUnchangedReport(data) {
		m.Msg = unchangedReport
		return nil
	}
	if err := c.base.Unmarshal(data, v); err != nil {
		c.bad.Store(v, err)
	}
	return nil
}

// unchangedReportWire is ConnectRequest{unchanged: {}} encoded: field 3,
// length-delimited, empty. At rest it is every message of every agent
// stream (600 a second at 3,000 agents).
var unchangedReportWire = []byte{3<<3 | 2, 0}

// unchangedReport is what unchangedReportWire decodes to, shared by every
// message that is exactly those bytes: taken as such, without the
// protobuf decoder's reflection and two allocations per message. It is
// never changed: the stream's reader only asks whether it is there.
var unchangedReport = &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}

// isUnchangedReport reports whether data is exactly unchangedReportWire.
func isUnchangedReport(data mem.BufferSlice) bool {
	if len(data) != 1 {
		return data.Len() == len(unchangedReportWire) && bytes.Equal(data.Materialize(), unchangedReportWire)
	}
	return bytes.Equal(data[0].ReadOnlyData(), unchangedReportWire)
}

// refusal is the error for a message that did not decode, nil for one that
// did.
func (c *requestCodec) refusal(method string, m any) error {
	err, ok := c.bad.LoadAndDelete(m)
	if !ok {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "%s: malformed request: %v", method, err)
}

// serverOptions install the codec and the interceptors that refuse what
// it could not decode; they come after any other interceptor.
func (c *requestCodec) serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(c),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if err := c.refusal(info.FullMethod, req); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			return handler(srv, &checkedStream{ServerStream: ss, codec: c, method: info.FullMethod})
		}),
	}
}

// checkedStream refuses a stream message that did not decode.
type checkedStream struct {
	grpc.ServerStream
	codec  *requestCodec
	method string
}

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		// Whatever was recorded for m is of no use now.
		s.codec.bad.Delete(m)
		return err
	}
	return s.codec.refusal(s.method, m)
}
