package dnsgslb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestKeysFailingMetric: when the only key of a signed zone stops signing
// with no successor, the server goes on signing the zone with the key it
// was signed with: answered unsigned, the zone would fail every resolver
// holding its DS. Snapshots still reach answers (a health change), signed
// by that key. The log says so every minute, ReloadKeys returns the
// error, and anyctl_dns_dnssec_keys_failing says it to the alert; it goes
// back to 0 once the keys sign again.
func TestKeysFailingMetric(t *testing.T) {
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	failing := func() float64 {
		t.Helper()
		v, ok := gather(t, ts.Server)["anyctl_dns_dnssec_keys_failing{}"]
		if !ok {
			t.Fatal("no anyctl_dns_dnssec_keys_failing")
		}
		return v
	}
	if f := failing(); f != 0 {
		t.Errorf("keys_failing %v with a key that signs, want 0", f)
	}
	good := k.Timing
	stopped := good
	stopped.Inactive = time.Now().Add(-time.Second).Truncate(time.Second)
	if err := k.SetTiming(stopped); err != nil {
		t.Fatal(err)
	}
	if err := ts.ReloadKeys(context.Background()); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("signing the zone with the keys it was signed with (%d)", k.Tag())) {
		t.Fatalf("ReloadKeys with a zone whose only key stopped signing: %v, want the zone held", err)
	}
	if f := failing(); f != 1 {
		t.Errorf("keys_failing %v after the zone's only key stopped signing, want 1", f)
	}
	if err := ts.Update(gslbtest.SetHealthy(gslbtest.Snapshot(), "eu-west", false)); err != nil {
		t.Fatalf("a health change with the zone's key stopped: %v", err)
	}
	q := msg(t, "nearest."+gslbtest.Zone, dns.TypeA, gslbtest.London)
	q.IsEdns0().SetDo()
	r := ts.exchange(t, "tcp", q)
	var addrs []string
	var rrset []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			addrs = append(addrs, rr.A.String())
			rrset = append(rrset, rr)
		case *dns.RRSIG:
			sigs = append(sigs, rr)
		}
	}
	if !slices.Equal(addrs, []string{gslbtest.USEast4}) || len(sigs) != 1 || sigs[0].KeyTag != k.Tag() {
		t.Fatalf("nearest A from London after eu-west went down: %v, want [%s] signed by key %d", rrs(r.Answer), gslbtest.USEast4, k.Tag())
	}
	// The key is still answered, and the signature is good and current.
	kq := msg(t, gslbtest.Zone, dns.TypeDNSKEY, "")
	kq.SetEdns0(4096, true)
	var published *dns.DNSKEY
	for _, rr := range ts.exchange(t, "tcp", kq).Answer {
		if dk, ok := rr.(*dns.DNSKEY); ok && dk.KeyTag() == k.Tag() {
			published = dk
		}
	}
	if published == nil {
		t.Fatalf("DNSKEY of the held zone lacks key %d", k.Tag())
	}
	if err := sigs[0].Verify(published, rrset); err != nil || !sigs[0].ValidityPeriod(time.Now()) {
		t.Errorf("signature of the held zone's answer: %v, valid now %t", err, sigs[0].ValidityPeriod(time.Now()))
	}
	if f := failing(); f != 1 {
		t.Errorf("keys_failing %v after an update with the zone held, want 1", f)
	}
	if err := k.SetTiming(good); err != nil {
		t.Fatal(err)
	}
	if err := ts.ReloadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f := failing(); f != 0 {
		t.Errorf("keys_failing %v once the key signs again, want 0", f)
	}
}

// TestNewAlgorithmPublishedAheadIsHeld: a key of a new algorithm published
// ahead of its activation would put an algorithm in the DNSKEY RRset that
// signs nothing (RFC 4035 §2.2). The zone goes on as it was signed, its
// DNSKEY RRset without the key, and the error names the algorithm and
// the key until the key signs.
func TestNewAlgorithmPublishedAheadIsHeld(t *testing.T) {
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	next, err := dnssec.Generate(dir, gslbtest.Zone, dns.ED25519, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ahead := next.Timing
	ahead.Activate = time.Now().Add(48 * time.Hour).Truncate(time.Second)
	if err := next.SetTiming(ahead); err != nil {
		t.Fatal(err)
	}
	err = ts.ReloadKeys(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("algorithm ED25519 is in the DNSKEY RRset (key %d)", next.Tag())) ||
		!strings.Contains(err.Error(), fmt.Sprintf("signing the zone with the keys it was signed with (%d)", k.Tag())) {
		t.Fatalf("ReloadKeys with a new algorithm's key published ahead: %v, want the zone held, naming the key", err)
	}
	if v := gather(t, ts.Server)["anyctl_dns_dnssec_keys_failing{}"]; v != 1 {
		t.Errorf("keys_failing %v, want 1", v)
	}
	kq := msg(t, gslbtest.Zone, dns.TypeDNSKEY, "")
	kq.SetEdns0(4096, true)
	var tags []uint16
	for _, rr := range ts.exchange(t, "tcp", kq).Answer {
		if dk, ok := rr.(*dns.DNSKEY); ok {
			tags = append(tags, dk.KeyTag())
		}
	}
	if !slices.Equal(tags, []uint16{k.Tag()}) {
		t.Errorf("DNSKEY RRset %v, want the held key %d alone", tags, k.Tag())
	}
}
