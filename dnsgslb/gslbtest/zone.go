package gslbtest

import (
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// DKIM is a DKIM-like TXT value of 600 bytes, longer than one
// character-string, with a backslash in it.
var DKIM = "v=DKIM1; k=rsa; p=" + strings.Repeat(`MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\`, 13)[:582]

// RealZone returns the test snapshot with the records a real zone has
// besides addresses added to its zone.
func RealZone() *v1.GslbSnapshot {
	snap := Snapshot()
	z := snap.GetZones()[0].GetSpec()
	z.Records = append(z.Records,
		&v1.StaticRecord{Name: "sel._domainkey", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{DKIM, "short"}},
	)
	return snap
}
