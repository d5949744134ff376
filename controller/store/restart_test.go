package store

import (
	"path/filepath"
	"testing"

	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

func TestRestartKeepsObjectsAndVersions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	first := etcdembedtest.StartServer(t, dir)
	s := New(etcdembedtest.Client(t, first), quietLogger())
	mustApply(t, s, pop("tokyo", 64500), origin("frankfurt", 10))
	mustApply(t, s, origin("frankfurt", 20))
	before, _, err := s.List(testContext(t), v1.Kind_KIND_UNSPECIFIED)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := etcdembedtest.StartServer(t, dir)
	s = New(etcdembedtest.Client(t, second), quietLogger())
	after, _, err := s.List(testContext(t), v1.Kind_KIND_UNSPECIFIED)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d objects after restart, want %d", len(after), len(before))
	}
	for i := range before {
		// proto.Equal, not resource.Equal: the versions must survive too.
		if !proto.Equal(before[i], after[i]) {
			t.Errorf("%s after restart differs:\nbefore %v\nafter  %v", resource.RefOf(before[i]), before[i], after[i])
		}
	}
	// Writes go on from where they were: the guard survived as well.
	resp := mustApply(t, s, withVersion(origin("frankfurt", 30), resource.Meta(after[1]).GetResourceVersion()))
	if resp.GetResults()[0].GetAction() != updated {
		t.Errorf("apply after restart: %v, want UPDATED", resp.GetResults()[0].GetAction())
	}
}

func TestTwoStoresOnTwoServers(t *testing.T) {
	a, _ := newStore(t)
	b, _ := newStore(t)
	mustApply(t, a, origin("frankfurt", 1))
	mustApply(t, b, origin("frankfurt", 2))
	ref := refOf(v1.Kind_KIND_ORIGIN, "frankfurt")
	if got := mustGet(t, a, ref).GetOrigin().GetSpec().GetWeight(); got != 1 {
		t.Errorf("store a holds weight %d, want 1", got)
	}
	if got := mustGet(t, b, ref).GetOrigin().GetSpec().GetWeight(); got != 2 {
		t.Errorf("store b holds weight %d, want 2", got)
	}
}
