package dnsgslb_test

import (
	"testing"

	"github.com/miekg/dns"
)

// TestTruncatedReferralNotAuthoritative: a referral too large for the
// client's UDP size is sent truncated, and like the referral itself it is
// not authoritative (RFC 1034 4.3.1: AA only for data of the zone); over
// TCP the whole referral comes, without AA.
func TestTruncatedReferralNotAuthoritative(t *testing.T) {
	ts := run(t, newServer(t, "", diffZone()))
	for _, name := range []string{"fat.gslb.example.com.", "www.fat.gslb.example.com."} {
		m := msg(t, name, dns.TypeA, "")
		u := ts.exchange(t, "udp", m)
		if !u.Truncated || u.Authoritative || len(u.Ns) != 0 {
			t.Errorf("%s over UDP without EDNS: TC %v AA %v, %d NS; want a truncated referral: TC, no AA, no records", name, u.Truncated, u.Authoritative, len(u.Ns))
		}
		c := ts.exchange(t, "tcp", m)
		if c.Truncated || c.Authoritative || len(c.Ns) != 16 {
			t.Errorf("%s over TCP: TC %v AA %v, %d NS; want the referral: no TC, no AA, 16 NS", name, c.Truncated, c.Authoritative, len(c.Ns))
		}
	}
}
