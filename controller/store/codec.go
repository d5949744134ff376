package store

import (
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// encode returns the stored form of an object: deterministic protobuf with
// the metadata versions cleared. It does not change o.
func encode(o *v1.Object) ([]byte, error) {
	if m := resource.Meta(o); m.GetResourceVersion() != 0 || m.GetCreateRevision() != 0 {
		o = proto.Clone(o).(*v1.Object)
		m := resource.Meta(o)
		m.ResourceVersion, m.CreateRevision = 0, 0
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", resource.RefOf(o), err)
	}
	return b, nil
}

// decode reads a stored object and sets its versions from the key-value. It
// fails on a value that is not the object its key names.
func decode(kv *mvccpb.KeyValue) (*v1.Object, error) {
	ref, err := refOfKey(string(kv.Key))
	if err != nil {
		return nil, err
	}
	o := &v1.Object{}
	if err := proto.Unmarshal(kv.Value, o); err != nil {
		return nil, fmt.Errorf("decode %s at key %q: %w", ref, kv.Key, err)
	}
	if got := resource.RefOf(o); got != ref {
		return nil, fmt.Errorf("key %q holds %s, not %s", kv.Key, got, ref)
	}
	m := resource.EnsureMeta(o)
	m.ResourceVersion, m.CreateRevision = kv.ModRevision, kv.CreateRevision
	return o, nil
}

// lastValue returns the object a DELETE event removed, from its previous
// key-value when etcd sent one, else just its kind and name.
func lastValue(kv, prev *mvccpb.KeyValue) (*v1.Object, error) {
	if prev != nil {
		return decode(prev)
	}
	ref, err := refOfKey(string(kv.Key))
	if err != nil {
		return nil, err
	}
	o := resource.Wrap(resource.NewOfKind(ref.Kind))
	resource.EnsureMeta(o).Name = ref.Name
	return o, nil
}

// DesiredMirror returns a mirror of the desired state: every object by
// reference, with its versions set. An unreadable object fails the list or
// the watch, and the mirror lists again.
func (s *Store) DesiredMirror(sink Sink[resource.Ref, *v1.Object]) *Mirror[resource.Ref, *v1.Object] {
	return newMirror(s, codec[resource.Ref, *v1.Object]{
		name:   "desired-state",
		prefix: DesiredPrefix,
		revKey: GuardKey,
		key:    refOfKey,
		decode: func(kv *mvccpb.KeyValue) (resource.Ref, *v1.Object, error) {
			o, err := decode(kv)
			if err != nil {
				return resource.Ref{}, nil, err
			}
			return resource.RefOf(o), o, nil
		},
	}, sink)
}
