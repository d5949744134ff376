//go:build linux

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/controlconn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// tap is a second subscriber of the controller's GSLB feed: it notes when
// each snapshot frame arrives (the controller has compiled, encoded and
// sent it), without decoding the snapshot, so that the time an answer
// takes can be split into the controller's part and the DNS server's.
type tap struct {
	mu     sync.Mutex // guards frames
	frames []frame
}

type frame struct {
	at       time.Time
	revision int64
	size     int
}

// rawCodec sends requests as protobuf and hands responses over undecoded.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }
func (rawCodec) Marshal(v any) ([]byte, error) {
	return proto.Marshal(v.(proto.Message))
}
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}

// run subscribes and records frames until ctx ends.
func (t *tap) run(ctx context.Context, addr string) error {
	conn, err := controlconn.Dial(addr, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	desc := &grpc.StreamDesc{StreamName: "Subscribe", ServerStreams: true}
	stream, err := conn.NewStream(ctx, desc, v1.GslbFeedService_Subscribe_FullMethodName,
		grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(1<<30), grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	if err := stream.SendMsg(&v1.SubscribeRequest{ServerName: "gslbe2e-tap"}); err != nil {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	for {
		var b []byte
		if err := stream.RecvMsg(&b); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("feed tap: %w", err)
		}
		now := time.Now()
		if rev, ok := snapshotRevision(b); ok {
			t.mu.Lock()
			t.frames = append(t.frames, frame{at: now, revision: rev, size: len(b)})
			t.mu.Unlock()
		}
	}
}

// snapshotRevision reads the revision of the snapshot a SubscribeResponse
// carries; ok is false when it carries none (a confirmation).
func snapshotRevision(b []byte) (rev int64, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, false
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			snap, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, false
			}
			for len(snap) > 0 {
				num, typ, n := protowire.ConsumeTag(snap)
				if n < 0 {
					return 0, true
				}
				snap = snap[n:]
				if num == 1 && typ == protowire.VarintType {
					v, _ := protowire.ConsumeVarint(snap)
					return int64(v), true
				}
				n = protowire.ConsumeFieldValue(num, typ, snap)
				if n < 0 {
					return 0, true
				}
				snap = snap[n:]
			}
			return 0, true
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, false
		}
		b = b[n:]
	}
	return 0, false
}

// after returns the first frame that arrived at or after since.
func (t *tap) after(since time.Time) (frame, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.frames {
		if !f.at.Before(since) {
			return f, true
		}
	}
	return frame{}, false
}

// last returns when the last frame arrived.
func (t *tap) last() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.frames) == 0 {
		return time.Time{}
	}
	return t.frames[len(t.frames)-1].at
}
