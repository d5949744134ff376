package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// eventWait bounds the wait for one watch event.
const eventWait = 30 * time.Second

// change is one write a test makes and the watch event it must cause.
type change struct {
	typ v1.EventType
	obj *v1.Object // applied, or for a delete the object's last value
}

func (c change) String() string {
	return fmt.Sprintf("%s %s", strings.TrimPrefix(c.typ.String(), "EVENT_TYPE_"), resource.RefOf(c.obj))
}

// TestE2EWatchSeesEveryChangeInOrder watches from a List's revision+1
// while anyctl creates, edits and deletes objects one at a time. Every
// change must arrive once, in the order made, as a put or a delete of the
// right object, each at a higher revision than the last; and the last
// event's revision is the store's, so nothing arrived out of turn.
func TestE2EWatchSeesEveryChangeInOrder(t *testing.T) {
	c := startWithExamples(t)
	listed := listAll(t, c.Admin)
	events := watchFrom(t, c.Admin, listed.GetRevision()+1)

	state := resource.NewState(listed.GetObjects()...)
	template := state.Get(resource.Ref{Kind: v1.Kind_KIND_ORIGIN, Name: "us-east"})
	tokyo := state.Get(resource.Ref{Kind: v1.Kind_KIND_POP, Name: "tokyo"})
	var changes []change
	apply := func(o *v1.Object) {
		t.Helper()
		mustAnyctl(t, c.Addr, asYAML(t, o), "apply", "-f", "-")
		changes = append(changes, change{v1.EventType_EVENT_TYPE_PUT, o})
	}
	remove := func(o *v1.Object) {
		t.Helper()
		ref := resource.RefOf(o)
		mustAnyctl(t, c.Addr, "", "delete", resource.KindName(ref.Kind), ref.Name)
		changes = append(changes, change{v1.EventType_EVENT_TYPE_DELETE, o})
	}
	for i := range 10 {
		o := edited(template, func(o *v1.Object) {
			o.GetOrigin().Metadata.Name = fmt.Sprintf("extra-%d", i)
			o.GetOrigin().Spec.Addresses = []string{fmt.Sprintf("203.0.113.%d", 50+i)}
		})
		apply(o)
		o = edited(o, func(o *v1.Object) { o.GetOrigin().Spec.Weight = int32(i + 1) })
		apply(o)
		if i%2 == 0 {
			remove(o) // no record refers to it
		} else {
			apply(edited(tokyo, func(o *v1.Object) { o.GetPop().Metadata.Description = fmt.Sprintf("edit %d", i) }))
		}
	}
	remove(state.Get(resource.Ref{Kind: v1.Kind_KIND_GSLB_RECORD, Name: "edge-unicast"}))
	last := edited(tokyo, func(o *v1.Object) { o.GetPop().Metadata.Description = "last change" })
	apply(last)

	rev := listed.GetRevision()
	for i, want := range changes {
		var got *v1.WatchResponse
		select {
		case got = <-events:
		case <-time.After(eventWait):
			t.Fatalf("change %d (%s): no event within %s", i, want, eventWait)
		}
		if got == nil {
			t.Fatalf("change %d (%s): the watch ended", i, want)
		}
		if got.GetType() != want.typ || resource.RefOf(got.GetObject()) != resource.RefOf(want.obj) {
			t.Fatalf("event %d is %s %s, want %s", i, got.GetType(), resource.RefOf(got.GetObject()), want)
		}
		if !resource.Equal(got.GetObject(), want.obj) {
			t.Errorf("event %d (%s) carries another object:\n%s", i, want, resource.Diff(want.obj, got.GetObject()))
		}
		if got.GetRevision() <= rev {
			t.Errorf("event %d (%s) at revision %d, not after %d", i, want, got.GetRevision(), rev)
		}
		if want.typ == v1.EventType_EVENT_TYPE_PUT && resource.Meta(got.GetObject()).GetResourceVersion() != got.GetRevision() {
			t.Errorf("event %d (%s) at revision %d carries resource version %d", i, want, got.GetRevision(), resource.Meta(got.GetObject()).GetResourceVersion())
		}
		rev = got.GetRevision()
	}
	if now := listAll(t, c.Admin).GetRevision(); now != rev {
		t.Errorf("the last event is at revision %d, the store at %d", rev, now)
	}
}

// watchFrom streams every change from revision start until the test ends.
// The channel yields nil when the stream ends.
func watchFrom(t *testing.T, admin v1.AdminServiceClient, start int64) <-chan *v1.WatchResponse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := admin.Watch(ctx, &v1.WatchRequest{StartRevision: start})
	if err != nil {
		cancel()
		t.Fatalf("watch from %d: %v", start, err)
	}
	out := make(chan *v1.WatchResponse, 64)
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		defer close(out)
		for {
			ev, err := stream.Recv()
			if err != nil {
				if ctx.Err() == nil {
					t.Logf("watch ended: %v", err)
				}
				return
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// edited returns a copy of o without its versions, changed by edit.
func edited(o *v1.Object, edit func(*v1.Object)) *v1.Object {
	c := proto.Clone(o).(*v1.Object)
	m := resource.Meta(c)
	m.ResourceVersion, m.CreateRevision = 0, 0
	edit(c)
	return c
}

// asYAML is o as a manifest.
func asYAML(t *testing.T, o *v1.Object) string {
	t.Helper()
	var b strings.Builder
	if err := manifest.EncodeObject(&b, o, manifest.FormatYAML); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
