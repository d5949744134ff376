package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/dnssec/dnssectest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestDNSSECDSParentCheck: ds --parent asks a server of the parent zone
// (a server of ours serving gslbtest.Zone with the child's delegation)
// for the child's DS RRset. While the parent still serves the DS of a KSK
// revoked by BIND's dnssec-revoke -r, it says so and exits 1; when the
// revoked key's DS is the only one, it says too that validating resolvers
// fail the zone; once the parent serves the active KSK's DS alone, it
// says so and exits 0. The DS of the revoked key is the revoked key's
// whether made before the revocation or from the revoked key file
// (its tag and digest over the REVOKE flag):
// either is named as the revoked key's DS to remove, as served. The one
// from the revoked key file leads to the revoked DNSKEY, which signs the
// DNSKEY RRset while published: alone, it is said to fail the zone for
// resolvers that use no revoked key, and for all once the key is deleted.
func TestDNSSECDSParentCheck(t *testing.T) {
	if _, err := exec.LookPath("dnssec-revoke"); err != nil {
		t.Fatal("dnssec-revoke is missing: make test-deps installs bind9-utils")
	}
	child := "sub." + gslbtest.Zone
	dir := t.TempDir()
	from := time.Now().Add(-time.Hour)
	var keys []*dnssec.Key
	for _, role := range []dnssec.Role{dnssec.KSK, dnssec.ZSK, dnssec.KSK} {
		k, err := dnssec.Generate(dir, child, dns.ECDSAP256SHA256, role, from)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	active, old := keys[0], keys[2]
	if out, err := exec.Command("dnssec-revoke", "-K", dir, "-r", filepath.Base(old.File)).CombinedOutput(); err != nil {
		t.Fatalf("dnssec-revoke: %v\n%s", err, out)
	}
	revoked := *old.DNSKEY
	revoked.Flags |= dns.REVOKE
	revokedDS := dnssectest.KeyFileDS(t, dir, child, &revoked)
	parent := serveDSParent(t, child)
	staleRevoked := func(ds *dns.DS) string {
		return fmt.Sprintf("; parent %s still serves the DS of key %d (revoked, served as key %d with the REVOKE flag): remove it: %s", parent.addr, old.Tag(), revoked.KeyTag(), ds)
	}
	staleRevokedDS := fmt.Sprintf("; parent %s still serves the DS of key %d (revoked, served as key %d with the REVOKE flag; this DS is of the revoked DNSKEY, which some validating resolvers accept until the key is deleted and others never): remove it: %s", parent.addr, old.Tag(), revoked.KeyTag(), revokedDS)

	for _, tc := range []struct {
		desc    string
		ds      []*dnssec.Key
		served  []*dns.DS // beside those of ds
		code    int
		want    []string
		wantNot []string
		wantErr string
	}{
		{desc: "active and revoked", ds: []*dnssec.Key{active, old}, code: ExitFailure,
			want:    []string{staleRevoked(old.DS())},
			wantNot: []string{"validating resolvers fail", "no key's"}, wantErr: "parent " + parent.addr},
		{desc: "active and the revoked key file's", ds: []*dnssec.Key{active}, served: []*dns.DS{revokedDS}, code: ExitFailure,
			want:    []string{staleRevokedDS},
			wantNot: []string{"validating resolvers fail", "no key's", "add it"}, wantErr: "parent " + parent.addr},
		{desc: "revoked key file's alone", served: []*dns.DS{revokedDS}, code: ExitFailure,
			want: []string{staleRevokedDS,
				fmt.Sprintf("; parent %s does not serve the DS of key %d: add it: %s", parent.addr, active.Tag(), active.DS()),
				fmt.Sprintf("; parent %s: only the revoked key's own DS leads to a key signing the DNSKEY RRset: validating resolvers that use no revoked key (RFC 5011) fail the zone (SERVFAIL), and all do once the key is deleted", parent.addr)},
			wantNot: []string{"no key's", "none of its DS records"}, wantErr: "parent " + parent.addr},
		{desc: "revoked, before and after the revocation", ds: []*dnssec.Key{active, old}, served: []*dns.DS{revokedDS}, code: ExitFailure,
			want:    []string{staleRevoked(old.DS()), staleRevokedDS},
			wantNot: []string{"validating resolvers fail", "no key's", "add it"}, wantErr: "parent " + parent.addr},
		{desc: "revoked alone", ds: []*dnssec.Key{old}, code: ExitFailure,
			want: []string{fmt.Sprintf("; parent %s still serves the DS of key %d", parent.addr, old.Tag()),
				fmt.Sprintf("; parent %s does not serve the DS of key %d: add it: %s", parent.addr, active.Tag(), active.DS()),
				"validating resolvers fail the zone"}, wantErr: "parent " + parent.addr},
		{desc: "active alone", ds: []*dnssec.Key{active}, code: ExitOK,
			want: []string{fmt.Sprintf("; parent %s serves the DS RRset above", parent.addr)}, wantNot: []string{"remove it", "add it"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var served []*dns.DS
			for _, k := range tc.ds {
				served = append(served, k.DS())
			}
			parent.setDSRecords(t, append(served, tc.served...)...)
			code, out, errOut := runAnyctl([]string{"dnssec", "ds", child, "--dir", dir, "--parent", parent.addr}, "")
			if code != tc.code || !strings.HasPrefix(out, active.DS().String()+"\n") || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("exit %d, want %d:\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}

	code, _, errOut := runAnyctl([]string{"dnssec", "ds", "other." + gslbtest.Zone, "--dir", dir, "--parent", parent.addr}, "")
	if code != ExitFailure || !strings.Contains(errOut, "other."+gslbtest.Zone) {
		t.Errorf("ds of a zone without keys: exit %d, %q", code, errOut)
	}
}

// dsParent is a server of ours serving gslbtest.Zone, the parent of
// child, with the child's DS RRset as a static record at the delegation.
type dsParent struct {
	server *dnsgslb.Server
	child  string
	rev    int64
	addr   string
}

func serveDSParent(t *testing.T, child string) *dsParent {
	t.Helper()
	s, err := dnsgslb.New(dnsgslb.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p := &dsParent{server: s, child: child, rev: 100}
	p.setDS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("parent server: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("parent server: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("parent server not ready")
	}
	u, _ := s.Addr()
	p.addr = u.String()
	return p
}

// setDS serves the child's DS RRset with the DS of keys.
func (p *dsParent) setDS(t *testing.T, keys ...*dnssec.Key) {
	t.Helper()
	var ds []*dns.DS
	for _, k := range keys {
		ds = append(ds, k.DS())
	}
	p.setDSRecords(t, ds...)
}

// setDSRecords serves the child's DS RRset with the records dss.
func (p *dsParent) setDSRecords(t *testing.T, dss ...*dns.DS) {
	t.Helper()
	p.rev++
	snap := gslbtest.Snapshot()
	snap.Revision = p.rev
	label := strings.TrimSuffix(p.child, "."+gslbtest.Zone)
	ds := &v1.StaticRecord{Name: label, Type: v1.RecordType_RECORD_TYPE_DS}
	for _, d := range dss {
		ds.Values = append(ds.Values, fmt.Sprintf("%d %d %d %s", d.KeyTag, d.Algorithm, d.DigestType, d.Digest))
	}
	z := snap.GetZones()[0].GetSpec()
	z.Records = append(z.Records,
		&v1.StaticRecord{Name: label, Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns1." + label}},
		&v1.StaticRecord{Name: "ns1." + label, Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"127.0.0.1"}})
	if len(dss) > 0 {
		z.Records = append(z.Records, ds)
	}
	if err := p.server.Update(snap); err != nil {
		t.Fatal(err)
	}
}
