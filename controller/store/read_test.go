package store

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

func TestListAndState(t *testing.T) {
	s, _ := newStore(t)
	resp := mustApply(t, s,
		origin("paris", 1), pop("tokyo", 64500), origin("frankfurt", 2), pop("amsterdam", 64501),
		resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "gslb"}, Spec: &v1.GslbZoneSpec{Zone: "gslb.example.com."}}),
	)
	tests := []struct {
		kind v1.Kind
		want []string
	}{
		{v1.Kind_KIND_UNSPECIFIED, []string{`Pop "amsterdam"`, `Pop "tokyo"`, `Origin "frankfurt"`, `Origin "paris"`, `GslbZone "gslb"`}},
		{v1.Kind_KIND_ORIGIN, []string{`Origin "frankfurt"`, `Origin "paris"`}},
		{v1.Kind_KIND_GSLB_RECORD, nil},
	}
	for _, tt := range tests {
		objs, rev, err := s.List(testContext(t), tt.kind)
		if err != nil {
			t.Fatalf("list %v: %v", tt.kind, err)
		}
		var got []string
		for _, o := range objs {
			got = append(got, resource.RefOf(o).String())
			if resource.Meta(o).GetResourceVersion() != resp.GetRevision() {
				t.Errorf("list %v: %s has version %d, want %d", tt.kind, resource.RefOf(o), resource.Meta(o).GetResourceVersion(), resp.GetRevision())
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("list %v = %v, want %v", tt.kind, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("list %v = %v, want %v", tt.kind, got, tt.want)
				break
			}
		}
		if rev < resp.GetRevision() {
			t.Errorf("list %v at revision %d, want at least %d", tt.kind, rev, resp.GetRevision())
		}
	}

	st, err := s.State(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Objects()) != 5 || len(st.Pops) != 2 || len(st.Origins) != 2 || len(st.Zones) != 1 || st.Revision < resp.GetRevision() {
		t.Errorf("state holds %d objects at revision %d, want 5 at %d or later", len(st.Objects()), st.Revision, resp.GetRevision())
	}
}

func TestGetErrors(t *testing.T) {
	s, _ := newStore(t)
	var notFound *NotFoundError
	if _, err := s.Get(testContext(t), refOf(v1.Kind_KIND_POP, "nowhere")); !errors.As(err, &notFound) || notFound.Ref.Name != "nowhere" {
		t.Errorf("get of a missing pop: %v, want a NotFoundError", err)
	}
	if _, err := s.Get(testContext(t), refOf(v1.Kind_KIND_UNSPECIFIED, "x")); err == nil || errors.As(err, &notFound) {
		t.Errorf("get of kind unspecified: %v, want an error other than not found", err)
	}
	if _, _, err := s.List(testContext(t), v1.Kind(42)); err == nil {
		t.Error("list of kind 42 succeeded")
	}
}

func TestCorruptValueIsNamed(t *testing.T) {
	s, cli := newStore(t)
	key := Key(refOf(v1.Kind_KIND_POP, "tokyo"))
	if _, err := cli.Put(testContext(t), key, "\xff\xff not protobuf"); err != nil {
		t.Fatal(err)
	}
	_, err := s.State(testContext(t))
	if err == nil || !strings.Contains(err.Error(), key) {
		t.Errorf("state over a corrupt value: %v, want an error naming %q", err, key)
	}
	other := Key(refOf(v1.Kind_KIND_POP, "osaka"))
	if _, err := cli.Put(testContext(t), other, string(mustEncode(t, origin("osaka", 1)))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(testContext(t), refOf(v1.Kind_KIND_POP, "osaka")); err == nil || !strings.Contains(err.Error(), `holds Origin "osaka"`) {
		t.Errorf("get of an origin stored under a pop key: %v, want an error", err)
	}
}

func mustEncode(t *testing.T, o *v1.Object) []byte {
	t.Helper()
	b, err := encode(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
