package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestGslbDataTheDNSServerCannotServeIsRefused applies zone data and
// records that parse but that no DNS server can send, or only against the
// rules of DNS: each is refused with InvalidArgument naming the object,
// the field and the value, and the stored state, which every DNS server
// compiles, is unchanged.
func TestGslbDataTheDNSServerCannotServeIsRefused(t *testing.T) {
	r := startFleet(t)
	ctx := context.Background()
	get := func(kind v1.Kind, name string) *v1.Object {
		resp, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: kind, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetObject()
	}
	zone := func(recs ...*v1.StaticRecord) func() *v1.Object {
		return func() *v1.Object {
			o := proto.Clone(get(v1.Kind_KIND_GSLB_ZONE, "gslb")).(*v1.Object)
			o.GetGslbZone().Spec.Records = recs
			return o
		}
	}
	httpsRecord := func(params string) func() *v1.Object {
		return func() *v1.Object {
			return resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "edge-https"}, Spec: &v1.GslbRecordSpec{
				Zone: "gslb", Name: "edge", Type: v1.RecordType_RECORD_TYPE_HTTPS, Pops: &v1.PopSelector{All: true},
				Policy: v1.Policy_POLICY_NEAREST, Https: &v1.ServiceBinding{Params: params},
			}})
		}
	}
	var txts []string
	for i := range 20 {
		txts = append(txts, fmt.Sprintf("%s%d", strings.Repeat("x", 4000), i))
	}
	lb := resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: "lb"}, Spec: &v1.OriginSpec{
		Location:  &v1.Location{Latitude: 50.1, Longitude: 8.7, Country: "DE", Continent: "EU"},
		Addresses: []string{"lb-1.elb.example.net."},
	}})
	const digest = "3B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B2C3D4E5F6A7B8C9D0E1F2A3B"
	cases := []struct {
		name string
		obj  func() *v1.Object
		want string
	}{
		{"DS digest not hexadecimal", zone(
			&v1.StaticRecord{Name: "child", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}},
			&v1.StaticRecord{Name: "child", Type: v1.RecordType_RECORD_TYPE_DS, Values: []string{"12345 13 2 XY" + digest[2:]}},
		), `GslbZone "gslb": spec.records[1].values[0] "12345 13 2 XY8B7C`},
		{"SVCB key repeated", zone(&v1.StaticRecord{Name: "svc", Type: v1.RecordType_RECORD_TYPE_SVCB, Values: []string{"1 . port=8443 port=443"}}),
			`GslbZone "gslb": spec.records[0].values[0] "1 . port=8443 port=443": not SVCB data: write PRIORITY TARGET PARAMS, such as "1 . alpn=h2,h3" (key "port" given twice)`},
		{"HTTPS parameters longer than a record holds", httpsRecord("alpn=" + strings.Repeat("h3-xyz,", 10000) + "h2"),
			`GslbRecord "edge-https": spec.https.params "alpn=h3-xyz,`},
		{"origin at the limited broadcast address", func() *v1.Object {
			o := proto.Clone(lb).(*v1.Object)
			o.GetOrigin().Spec.Addresses = []string{"255.255.255.255"}
			return o
		}, `Origin "lb": spec.addresses[0] "255.255.255.255": limited broadcast address`},
		{"HTTPS ipv6hint an IPv4-mapped address", zone(&v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_HTTPS, Values: []string{"1 . alpn=h2 ipv6hint=::ffff:192.0.2.1"}}),
			`GslbZone "gslb": spec.records[0].values[0] "1 . alpn=h2 ipv6hint=::ffff:192.0.2.1": ipv6hint "::ffff:192.0.2.1": not an IPv6 address`},
		{"HTTPS in alias mode with parameters", zone(&v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_HTTPS, Values: []string{"0 www.example.net. alpn=h2"}}),
			`GslbZone "gslb": spec.records[0].values[0] "0 www.example.net. alpn=h2": priority 0 is AliasMode, whose parameters clients ignore (RFC 9460 section 2.4.2)`},
		{"TXT values too large for a message", zone(&v1.StaticRecord{Name: "big", Type: v1.RecordType_RECORD_TYPE_TXT, Values: txts}),
			`GslbZone "gslb": spec.records[0].values: 20 values take 80628 bytes in the answer for "big.gslb.example.com.": more than 64000`},
		{"PoP addresses that make an HTTPS answer too large", func() *v1.Object {
			o := proto.Clone(get(v1.Kind_KIND_POP, "tokyo")).(*v1.Object)
			for i := range 5000 {
				o.GetPop().Spec.UnicastAddresses = append(o.GetPop().Spec.UnicastAddresses, fmt.Sprintf("2001:db8:ff::%x", i+1))
			}
			return o
		}, `GslbRecord "edge-https": spec.pops: with the addresses of the candidate with the most as its hints`},
		{"MX empty, read as the null MX", zone(&v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_MX, Values: []string{""}}),
			`GslbZone "gslb": spec.records[0].values[0]: empty: write PREFERENCE EXCHANGE, such as "10 mx.example.com." ("0 ." is the null MX of RFC 7505)`},
		{"DS digest shorter than its type's", zone(
			&v1.StaticRecord{Name: "child", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}},
			&v1.StaticRecord{Name: "child", Type: v1.RecordType_RECORD_TYPE_DS, Values: []string{"12345 13 2 " + digest[:40]}},
		), `GslbZone "gslb": spec.records[1].values[0] "12345 13 2 3B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B": digest type 2 (SHA-256) has a digest of 32 bytes (64 hex digits), not 20`},
		{"same name and type as a static record of a zone below", zone(&v1.StaticRecord{Name: "x", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.80"}}),
			`GslbZone "gslb": spec.records[0].name "x": "x.gslb.example.com." A is a static record of GslbZone "outer" too: DNS servers would answer one RRset of both zones' values, with two TTLs; list every value in one record of one zone`},
		{"name origin at the zone apex", func() *v1.Object {
			o := httpsRecord("alpn=h2")()
			o.GetGslbRecord().Metadata.Name = "apex"
			o.GetGslbRecord().Spec.Name = "@"
			o.GetGslbRecord().Spec.Pops = nil
			o.GetGslbRecord().Spec.Origins = []string{"lb"}
			return o
		}, `GslbRecord "apex": spec.origins[0] "lb": a DNS name origin, answered with a CNAME, but "gslb.example.com." is the apex of GslbZone "gslb", which holds its SOA and NS records: a CNAME stands alone, and cannot be at a zone apex`},
	}
	outer := resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "outer"}, Spec: &v1.GslbZoneSpec{
		Zone: "example.com.", DefaultTtl: 300,
		Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.com."},
		NameServers: []*v1.NameServer{{Name: "ns1.example.net."}},
		Records:     []*v1.StaticRecord{{Name: "x.gslb", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.81"}}},
	}})
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{httpsRecord("alpn=h2")(), lb, outer}}); err != nil {
		t.Fatalf("apply an HTTPS record: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := listAll(t, r)
			_, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{tc.obj()}})
			st := status.Convert(err)
			t.Logf("%v: %.400s", st.Code(), st.Message())
			if st.Code() != codes.InvalidArgument {
				t.Errorf("code %v, want %v", st.Code(), codes.InvalidArgument)
			}
			if !strings.Contains(st.Message(), tc.want) {
				t.Errorf("message %.400q does not contain %q", st.Message(), tc.want)
			}
			after := listAll(t, r)
			if after.GetRevision() != before.GetRevision() || !proto.Equal(after, before) {
				t.Errorf("stored state changed: revision %d → %d", before.GetRevision(), after.GetRevision())
			}
		})
	}
}
