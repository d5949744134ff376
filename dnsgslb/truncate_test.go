package dnsgslb_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
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

// TestApexNSWithoutGlueFits: when the apex NS RRset fits a UDP reply but
// its name servers' addresses (additional data) do not, the reply is the
// NS RRset without them and TC clear (RFC 2181 section 9: TC only when a
// required RRset does not fit); over TCP the addresses come too.
func TestApexNSWithoutGlueFits(t *testing.T) {
	snap := gslbtest.Snapshot()
	spec := snap.Zones[0].Spec
	gslbtest.AddNameServers(spec, 10)
	ts := run(t, newServer(t, "", snap))
	for _, size := range []uint16{0, 512, 600} {
		m := msg(t, gslbtest.Zone, dns.TypeNS, "")
		if size != 0 {
			m.SetEdns0(size, false)
		}
		u := ts.exchange(t, "udp", m)
		if u.Truncated || len(u.Answer) != 12 {
			t.Errorf("UDP size %d: TC %v with %d NS records, want the 12 without TC", size, u.Truncated, len(u.Answer))
		}
		c := ts.exchange(t, "tcp", m)
		if c.Truncated || len(c.Answer) != 12 || len(c.Extra) < 22 {
			t.Errorf("TCP: TC %v with %d NS records and %d additional, want the 12 and their 22 addresses", c.Truncated, len(c.Answer), len(c.Extra))
		}
	}
}
