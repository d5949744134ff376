package controller_test

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestGlueInANestedZoneIsAccepted applies a zone whose name server, listed
// without addresses, lies in a zone nested in it that answers its address:
// both are stored. Deleting the nested zone, or applying it without that
// address, is then refused with InvalidArgument naming the zone that
// needs it, and the stored state is unchanged.
func TestGlueInANestedZoneIsAccepted(t *testing.T) {
	r := startFleet(t)
	ctx := context.Background()
	outer := resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "outer"}, Spec: &v1.GslbZoneSpec{
		Zone: "example.com.", DefaultTtl: 300,
		Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.com."},
		NameServers: []*v1.NameServer{{Name: "ns1.dns.example.com."}, {Name: "ns1.example.net."}},
	}})
	inner := resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "dns"}, Spec: &v1.GslbZoneSpec{
		Zone: "dns.example.com.", DefaultTtl: 300,
		Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.com."},
		NameServers: []*v1.NameServer{{Name: "ns1", Addresses: []string{"192.0.2.55"}}, {Name: "ns1.example.net."}},
	}})
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{outer, inner}}); err != nil {
		t.Fatalf("apply a zone whose name server's address a nested zone answers: %v", err)
	}
	const want = `GslbZone "outer": spec.nameServers[0].addresses: glue required: "ns1.dns.example.com." is inside the zone`
	noGlue := proto.Clone(inner).(*v1.Object)
	noGlue.GetGslbZone().Spec.NameServers[0] = &v1.NameServer{Name: "ns2.example.net."}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"delete the nested zone", func() error {
			_, err := r.Admin.Delete(ctx, &v1.DeleteRequest{Kind: v1.Kind_KIND_GSLB_ZONE, Name: "dns"})
			return err
		}},
		{"apply the nested zone without the address", func() error {
			_, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{noGlue}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := listAll(t, r)
			st := status.Convert(tc.call())
			t.Logf("%v: %.400s", st.Code(), st.Message())
			if st.Code() != codes.InvalidArgument {
				t.Errorf("code %v, want %v", st.Code(), codes.InvalidArgument)
			}
			if !strings.Contains(st.Message(), want) {
				t.Errorf("message %.400q does not contain %q", st.Message(), want)
			}
			after := listAll(t, r)
			if after.GetRevision() != before.GetRevision() || !proto.Equal(after, before) {
				t.Errorf("stored state changed: revision %d → %d", before.GetRevision(), after.GetRevision())
			}
		})
	}
}
