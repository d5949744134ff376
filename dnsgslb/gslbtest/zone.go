package gslbtest

import (
	"fmt"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// DKIM is a DKIM-like TXT value of 600 bytes, longer than one
// character-string, with a backslash in it.
var DKIM = "v=DKIM1; k=rsa; p=" + strings.Repeat(`MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\`, 13)[:582]

// Glue of the child zone's name server ns1.child.gslb.example.com.
const (
	ChildNS4 = "192.0.2.153"
	ChildNS6 = "2001:db8::153"
)

// RealZone returns the test snapshot with the records a real zone has
// besides addresses added to its zone.
func RealZone() *v1.GslbSnapshot {
	snap := Snapshot()
	z := snap.GetZones()[0].GetSpec()
	z.Records = append(z.Records,
		&v1.StaticRecord{Name: "sel._domainkey", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{DKIM, "short"}},
		&v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_MX, Values: []string{"10 mx1", "20 mx2.example.net."}},
		&v1.StaticRecord{Name: "mx1", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.25"}},
		&v1.StaticRecord{Name: "_sip._tcp", Type: v1.RecordType_RECORD_TYPE_SRV, Values: []string{"10 5 5060 sip.example.net."}},
		&v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_CAA, Values: []string{`0 issue "ca.example.net; account=1"`}},
		&v1.StaticRecord{Name: "svc", Type: v1.RecordType_RECORD_TYPE_SVCB, Values: []string{"1 svc-pool.example.net. alpn=h2 port=8443"}},
		&v1.StaticRecord{Name: "www", Type: v1.RecordType_RECORD_TYPE_HTTPS, Values: []string{"1 . alpn=h2,h3"}},
		// A child zone: one name server inside it (glued), one outside.
		&v1.StaticRecord{Name: "child", Type: v1.RecordType_RECORD_TYPE_NS, Ttl: 3600, Values: []string{"ns1.child", "ns.example.net."}},
		&v1.StaticRecord{Name: "ns1.child", Type: v1.RecordType_RECORD_TYPE_A, Ttl: 3600, Values: []string{ChildNS4}},
		&v1.StaticRecord{Name: "ns1.child", Type: v1.RecordType_RECORD_TYPE_AAAA, Ttl: 3600, Values: []string{ChildNS6}},
	)
	// A name origin (a cloud load balancer) in Tokyo.
	snap.Origins = append(snap.Origins, &v1.SnapshotOrigin{Name: "cloud-lb", Healthy: true, Spec: &v1.OriginSpec{
		Location: loc(35.68, 139.69, "JP", "AS", "apac", "Tokyo"), Addresses: []string{CloudLB}, Weight: 10,
	}})
	https := v1.RecordType_RECORD_TYPE_HTTPS
	web := record("web", "web", https, v1.Policy_POLICY_NEAREST, "us-east", "eu-west", "ap-northeast")
	web.Spec.Https = &v1.ServiceBinding{Params: "alpn=h2,h3"}
	edgeHTTPS := &v1.GslbRecord{
		Metadata: &v1.ObjectMeta{Name: "edge-https"},
		Spec: &v1.GslbRecordSpec{Zone: "gslb", Name: "edge", Type: https, Policy: v1.Policy_POLICY_NEAREST,
			Pops: &v1.PopSelector{All: true}, Ttl: 30, Https: &v1.ServiceBinding{Priority: 1, Params: "alpn=h3 port=443"}},
	}
	snap.Records = append(snap.Records, web, edgeHTTPS,
		record("cloud", "cloud", v1.RecordType_RECORD_TYPE_A, v1.Policy_POLICY_NEAREST, "cloud-lb", "us-east"),
		record("cloud6", "cloud", v1.RecordType_RECORD_TYPE_AAAA, v1.Policy_POLICY_NEAREST, "cloud-lb", "us-east"),
		record("cloud-https", "cloud", https, v1.Policy_POLICY_NEAREST, "cloud-lb", "us-east"),
	)
	return snap
}

// CloudLB is the name of the name origin cloud-lb.
const CloudLB = "lb-1.elb.example.net."

// AddNameServers adds n name servers inside the zone, each with an IPv4
// and an IPv6 address: an apex NS answer whose additional data outgrows
// a small UDP reply.
func AddNameServers(spec *v1.GslbZoneSpec, n int) {
	for i := range n {
		spec.NameServers = append(spec.NameServers, &v1.NameServer{
			Name:      fmt.Sprintf("ns-extra%d", i),
			Addresses: []string{fmt.Sprintf("192.0.2.%d", 200+i), fmt.Sprintf("2001:db8::%x", 0x200+i)},
		})
	}
}
