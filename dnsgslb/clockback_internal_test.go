package dnsgslb

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestResignWhenTheClockWentBack: the server's periodic look at its keys,
// on a clock now before the time the served signatures were made at (set
// back, by NTP after a boot ahead), signs again rather than serve, for up
// to the refresh interval, signatures whose inception is ahead of every
// validator's clock. Its keys are the same at both times, and the
// signatures not due for refresh.
func TestResignWhenTheClockWentBack(t *testing.T) {
	dir := t.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	s := testServerWith(t, Config{DNSSECKeyDir: dir})
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	served := s.Index()
	back := served.SignedAt().Add(-48 * time.Hour)
	if err := s.resignIfDue(context.Background(), back); err != nil {
		t.Fatal(err)
	}
	if s.Index() == served {
		t.Errorf("with the clock at %v, before the signatures' time %v, the server kept them", back, served.SignedAt())
	}
}
