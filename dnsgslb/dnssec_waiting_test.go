package dnsgslb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// withNextZone is the test snapshot with a second zone, next.example.,
// holding one static A record.
func withNextZone() *v1.GslbSnapshot {
	snap := gslbtest.Snapshot()
	z := snap.GetZones()[0].GetSpec()
	snap.Zones = append(snap.Zones, &v1.GslbZone{
		Metadata: &v1.ObjectMeta{Name: "next"},
		Spec: &v1.GslbZoneSpec{Zone: "next.example.", DefaultTtl: 300, Soa: z.GetSoa(), NameServers: z.GetNameServers(),
			Records: []*v1.StaticRecord{{Name: "www", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.90"}}}},
	})
	return snap
}

// TestKeysNotYetSigningBlockNothing: a key put in the directory ahead of
// its activation (dnssec-keygen -P now -A +2h), for a zone the server
// serves unsigned and for one it does not serve, leaves those zones
// unsigned, with no DNSKEY, RRSIG or NSEC, until the key signs; the other
// zones are signed and follow their updates as before.
func TestKeysNotYetSigningBlockNothing(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, withNextZone()))
	for _, zone := range []string{"next.example.", "elsewhere.example."} {
		w, err := dnssec.Generate(dir, zone, dns.ECDSAP256SHA256, dnssec.CSK, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.SetTiming(dnssec.Timing{Created: w.Created, Publish: w.Publish, Activate: w.Publish.Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.ReloadKeys(context.Background()); err != nil {
		t.Errorf("ReloadKeys: %v", err)
	}

	snap := gslbtest.SetHealthy(withNextZone(), "eu-west", false)
	if err := ts.Update(snap); err != nil {
		t.Fatalf("Update after the keys were read: %v", err)
	}
	q := msg(t, "failover."+gslbtest.Zone, dns.TypeA, "")
	q.SetEdns0(4096, true)
	r := ts.exchange(t, "tcp", q)
	var rrset []dns.RR
	var sig *dns.RRSIG
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			if rr.A.String() == gslbtest.EUWest4 {
				t.Errorf("failover answers the origin that went down: %v", rrs(r.Answer))
			}
			rrset = append(rrset, rr)
		case *dns.RRSIG:
			sig = rr
		}
	}
	if len(rrset) == 0 || sig == nil {
		t.Fatalf("failover A: %v, want addresses and their RRSIG", rrs(r.Answer))
	}
	if err := sig.Verify(k.DNSKEY, rrset); err != nil || !sig.ValidityPeriod(time.Now()) {
		t.Errorf("failover RRSIG %v: %v", sig, err)
	}

	for _, qt := range []uint16{dns.TypeA, dns.TypeDNSKEY, dns.TypeTXT} {
		q := msg(t, "next.example.", qt, "")
		if qt == dns.TypeA {
			q = msg(t, "www.next.example.", qt, "")
		}
		q.SetEdns0(4096, true)
		r := ts.exchange(t, "tcp", q)
		for _, rr := range append(r.Answer, r.Ns...) {
			switch rr.Header().Rrtype {
			case dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC:
				t.Errorf("next.example. %s: %v in a zone whose key does not sign yet", dns.TypeToString[qt], rr)
			}
		}
		if qt == dns.TypeA && len(r.Answer) != 1 {
			t.Errorf("www.next.example. A: %v, want its address", rrs(r.Answer))
		}
	}
}

// TestSignedZoneNotUnsignedByAWaitingKey: in a CSK rollover, with the new
// key published and waiting for its DS, the old key's files are removed
// by mistake. The zone has a key, none signing, none activated by its
// timing; but it is signed now, and answering it unsigned would fail
// every resolver holding its DS: the server reports the keys failing and
// goes on signing with the key the zone was signed with.
func TestSignedZoneNotUnsignedByAWaitingKey(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	keys, err := dnssec.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dnssec.StartRollover(dir, gslbtest.Zone, keys[gslbtest.Zone], dnssec.CSK, dnssec.RolloverTTLs{DNSKEY: time.Minute, Max: time.Minute, DS: time.Minute}, now); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".key", ".private"} {
		if err := os.Remove(old.File + ext); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.ReloadKeys(context.Background()); err == nil {
		t.Error("ReloadKeys took a directory where no key of the signed zone signs")
	}
	q := msg(t, "www."+gslbtest.Zone, dns.TypeA, "")
	q.SetEdns0(4096, true)
	r := ts.exchange(t, "tcp", q)
	var sig *dns.RRSIG
	for _, rr := range r.Answer {
		if s, ok := rr.(*dns.RRSIG); ok {
			sig = s
		}
	}
	if sig == nil || sig.KeyTag != old.Tag() {
		t.Errorf("www A after the signing key's files went: %v, want it signed by key %d", rrs(r.Answer), old.Tag())
	}
}
