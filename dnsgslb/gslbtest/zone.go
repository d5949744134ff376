package gslbtest

import (
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
	return snap
}
