package validation

import (
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

func TestCheckDelete(t *testing.T) {
	ref := func(k v1.Kind, name string) resource.Ref { return resource.Ref{Kind: k, Name: name} }
	const (
		pop    = v1.Kind_KIND_POP
		svc    = v1.Kind_KIND_ANYCAST_SERVICE
		origin = v1.Kind_KIND_ORIGIN
		zone   = v1.Kind_KIND_GSLB_ZONE
		record = v1.Kind_KIND_GSLB_RECORD
	)
	cases := []struct {
		name string
		edit func(f *fixture)
		ref  resource.Ref
		want []string
	}{
		{"PoP named by a residency rule", nil, ref(pop, "tokyo"), []string{
			`Pop "tokyo": referred to by GslbRecord "edge" at spec.residency[0].allowed[0]; remove the reference first`,
		}},
		{"PoP named by a service selector", func(f *fixture) {
			f.httpSvc.Spec.Pops = &v1.PopSelector{Names: []string{"london", "newyork", "saopaulo"}}
		}, ref(pop, "newyork"), []string{
			`Pop "newyork": referred to by AnycastService "edge-http" at spec.pops.names[1]; remove the reference first`,
		}},
		{"PoP named by a record selector", func(f *fixture) {
			f.hybrid.Spec.Pops = &v1.PopSelector{Names: []string{"london", "tokyo"}}
		}, ref(pop, "tokyo"), []string{
			`Pop "tokyo": referred to by GslbRecord "edge" at spec.pops.names[1]; remove the reference first`,
		}},
		{"service a PoP's peer announces", func(f *fixture) {
			f.tokyo.Spec.Peers[0].Announce = &v1.PeerAnnounce{Services: []string{"edge-http"}}
		}, ref(svc, "edge-http"), []string{
			`AnycastService "edge-http": referred to by Pop "tokyo" at spec.peers[0].announce.services[0]; remove the reference first`,
		}},
		{"last PoP of a selected region", nil, ref(pop, "london"), []string{
			`Pop "london": deleting it breaks AnycastService "edge-http": spec.pops.regions[0] "emea": no Pop in this region`,
		}},
		{"PoP the withdrawal budget needs", nil, ref(pop, "newyork"), []string{
			`Pop "newyork": deleting it breaks AnycastService "edge-http": spec.minAnnouncingPops "3": more than the 2 PoPs selected`,
		}},
		{"origin named by records", nil, ref(origin, "fra"), []string{
			`Origin "fra": referred to by GslbRecord "api" at spec.origins[0]; remove the reference first`,
			`Origin "fra": referred to by GslbRecord "assets" at spec.origins[1]; remove the reference first`,
			`Origin "fra": referred to by GslbRecord "origin" at spec.origins[0]; remove the reference first`,
			`Origin "fra": referred to by GslbRecord "origin-v6" at spec.origins[0]; remove the reference first`,
		}},
		{"zone used by records", nil, ref(zone, "gslb"), []string{
			`GslbZone "gslb": referred to by GslbRecord "api" at spec.zone; remove the reference first`,
			`GslbZone "gslb": referred to by GslbRecord "assets" at spec.zone; remove the reference first`,
			`GslbZone "gslb": referred to by GslbRecord "edge" at spec.zone; remove the reference first`,
			`GslbZone "gslb": referred to by GslbRecord "origin" at spec.zone; remove the reference first`,
			`GslbZone "gslb": referred to by GslbRecord "origin-v6" at spec.zone; remove the reference first`,
		}},
		{"unreferenced PoP", func(f *fixture) {
			f.hybrid.Spec.Residency = nil
		}, ref(pop, "tokyo"), nil},
		{"service", nil, ref(svc, "edge-dns"), nil},
		{"record", nil, ref(record, "origin"), nil},
		{"absent object", nil, ref(origin, "ord"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			if tc.edit != nil {
				tc.edit(f)
			}
			got := errString(CheckDelete(tc.ref, f.state()))
			if want := strings.Join(tc.want, "\n"); got != want {
				t.Errorf("CheckDelete(%v):\n got: %s\nwant: %s", tc.ref, got, want)
			}
		})
	}
}

// TestCheckDeleteChecksTheStateOnce: a delete checks the cross-object rules
// of the state without the object once, and of the state before only for
// the objects that have a problem without it, not the whole state twice.
func TestCheckDeleteChecksTheStateOnce(t *testing.T) {
	f := newFixture()
	st := f.state()
	ref := resource.Ref{Kind: v1.Kind_KIND_GSLB_RECORD, Name: "origin"}
	n := 0
	crossChecked = func(resource.Ref) { n++ }
	defer func() { crossChecked = nil }()
	if err := CheckDelete(ref, st); err != nil {
		t.Fatalf("CheckDelete(%v): %v", ref, err)
	}
	if want := len(st.Objects()) - 1; n != want {
		t.Errorf("CheckDelete(%v) cross-checked %d objects; want %d, each of the state without it once", ref, n, want)
	}
}
