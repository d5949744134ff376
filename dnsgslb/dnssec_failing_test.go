package dnsgslb_test

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestKeysFailingMetric: when the only key of a signed zone stops signing
// with no successor, the server cannot sign again: it keeps the
// signatures it has, which expire, and refuses every snapshot. The log
// says so every minute, and anyctl_dns_dnssec_keys_failing says it to the
// alert; it goes back to 0 once the keys sign again.
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
	if err := ts.ReloadKeys(context.Background()); err == nil {
		t.Fatal("ReloadKeys took a zone whose only key stopped signing")
	}
	if f := failing(); f != 1 {
		t.Errorf("keys_failing %v after the zone's only key stopped signing, want 1", f)
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
