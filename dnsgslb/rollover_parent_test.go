package dnsgslb_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// parentZone is the signed parent zone of the rollover tests: the test
// zone (gslbtest.Zone) served by a server of ours with its own key, and
// a delegation to the child zone with the child's DS RRset as static
// records, which the test changes as an operator would: a new snapshot
// with other DS values. A validating resolver uses the parent key's DS as
// its trust anchor and so trusts the child only through that DS RRset.
type parentZone struct {
	t      *testing.T
	server *testServer
	key    *dnssec.Key
	child  string
	dsTTL  uint32
	mu     sync.Mutex // guards rev
	rev    int64
}

// serveParent serves the signed parent of child with child's DS RRset
// holding the DS of keys, TTL dsTTL.
func serveParent(t *testing.T, child string, dsTTL uint32, keys ...*dnssec.Key) *parentZone {
	t.Helper()
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	p := &parentZone{t: t, key: k, child: child, dsTTL: dsTTL, rev: 100}
	p.server = run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, p.snapshot(keyDS(keys))))
	return p
}

// keyDS is the DS of each of keys.
func keyDS(keys []*dnssec.Key) []*dns.DS {
	var out []*dns.DS
	for _, k := range keys {
		out = append(out, k.DS())
	}
	return out
}

// snapshot is the parent zone with the delegation to the child and the
// DS records dss.
func (p *parentZone) snapshot(dss []*dns.DS) *v1.GslbSnapshot {
	snap := gslbtest.Snapshot()
	snap.Revision = p.rev
	label := strings.TrimSuffix(p.child, "."+gslbtest.Zone)
	ds := &v1.StaticRecord{Name: label, Type: v1.RecordType_RECORD_TYPE_DS, Ttl: p.dsTTL}
	for _, d := range dss {
		ds.Values = append(ds.Values, fmt.Sprintf("%d %d %d %s", d.KeyTag, d.Algorithm, d.DigestType, d.Digest))
	}
	z := snap.GetZones()[0].GetSpec()
	z.Records = append(z.Records,
		&v1.StaticRecord{Name: label, Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns1." + label}},
		&v1.StaticRecord{Name: "ns1." + label, Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"127.0.0.1"}},
		ds)
	return snap
}

// setDS makes the child's DS RRset hold the DS of keys: the parent's
// operator applies the zone with those DS values.
func (p *parentZone) setDS(keys ...*dnssec.Key) {
	p.t.Helper()
	p.setDSRecords(keyDS(keys)...)
}

// setDSRecords serves the DS records dss at the delegation.
func (p *parentZone) setDSRecords(dss ...*dns.DS) {
	p.t.Helper()
	p.mu.Lock()
	p.rev++
	snap := p.snapshot(dss)
	p.mu.Unlock()
	if err := p.server.Update(snap); err != nil {
		p.t.Fatal(err)
	}
}

// anchor is the trust anchor for the parent zone, as unbound reads it.
func (p *parentZone) anchor() string {
	return strings.ReplaceAll(p.key.DS().String(), "\t", " ")
}
