package index

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestClockSetBackSignsAgain builds a signed zone with the clock two days
// ahead, then again with the clock set right (NTP after a boot with a bad
// hardware clock): the second build must not keep the first one's
// signatures, whose inception is still in the future for every validator,
// but sign again, so that every answer validates at the right time.
func TestClockSetBackSignsAgain(t *testing.T) {
	signers, key := testSigner(t)
	ahead := signedAt.Add(48 * time.Hour)
	opts := Options{GeoIP: randomDB(t, 500, 50), Signers: signers, Now: func() time.Time { return ahead }}
	prev, err := Compile(gslbtest.Snapshot(), opts)
	if err != nil {
		t.Fatal(err)
	}
	snap := gslbtest.Snapshot()
	snap.Revision++
	opts.Previous, opts.Now = prev, func() time.Time { return signedAt }
	ix, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"www." + gslbtest.Zone, dns.TypeA}, {gslbtest.Zone, dns.TypeDNSKEY}, {"nope." + gslbtest.Zone, dns.TypeA}, {"www." + gslbtest.Zone, dns.TypeTXT}} {
		m := ask(t, ix, q.name, q.qtype, true)
		what := q.name + " " + dns.TypeToString[q.qtype]
		verifySection(t, what, key, m.Answer)
		verifySection(t, what, key, m.Ns)
	}
	if at, want := ix.ResignAt(), signers[gslbtest.Zone].RefreshAt(signedAt); !at.Equal(want) {
		t.Errorf("signatures refreshed at %v, want at %v", at, want)
	}
}
