package index

import (
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestSharedAddressAnsweredOnce: us-east and us-central share an address
// (one load balancer registered twice). A New York client's A answer of
// two takes it once and fills the second place from the next candidate,
// eu-paris, and an HTTPS answer of two candidates' hints passes over
// us-central, which adds no address; compiled per class and answered live,
// with and without the DO bit, the signed RRset verifying; explain marks
// answered the candidates the answer comes from.
func TestSharedAddressAnsweredOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	snap := sharedSnapshot()
	snap.Records = append(snap.Records, &v1.GslbRecord{
		Metadata: &v1.ObjectMeta{Name: "shared-https"},
		Spec: &v1.GslbRecordSpec{Zone: "gslb", Name: "shared", Type: v1.RecordType_RECORD_TYPE_HTTPS, Policy: v1.Policy_POLICY_NEAREST,
			Origins: []string{"us-east", "us-central", "eu-paris", "ap-northeast"}, Answers: 2, Ttl: 30,
			Https: &v1.ServiceBinding{Priority: 1, Params: "alpn=h2"}},
	})
	client := netip.MustParsePrefix(gslbtest.NewYork)
	name := "shared." + gslbtest.Zone
	for _, mode := range []struct {
		name   string
		live   bool
		signed bool
	}{{"compiled", false, false}, {"live", true, false}, {"signed compiled", false, true}, {"signed live", true, true}} {
		t.Run(mode.name, func(t *testing.T) {
			if mode.live {
				defer SetLiveBudget(SetLiveBudget(0))
			}
			opts := Options{GeoIP: db}
			var key *dnssec.Key
			if mode.signed {
				opts.Signers, key = testSigner(t)
				opts.Now = func() time.Time { return signedAt }
			}
			ix, err := Compile(snap, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range ix.records {
				if rec.object == "shared" && (rec.live != nil) != mode.live {
					t.Fatalf("shared A answered live %v, want %v", rec.live != nil, mode.live)
				}
			}
			for _, qt := range []uint16{dns.TypeA, dns.TypeHTTPS} {
				want := []string{gslbtest.USEast4, "192.0.2.21"}
				if qt == dns.TypeHTTPS {
					want = []string{gslbtest.USEast4, "192.0.2.21", "192.0.2.22", gslbtest.USEast6}
				}
				for _, do := range []bool{false, true} {
					r := askFromDO(t, ix, name, qt, client, do)
					if got := answeredAddrs(r.Answer); !slices.Equal(got, want) {
						t.Errorf("%s from %s, DO %v: answer %q, want %q", typeName(qt), client, do, got, want)
					}
					if mode.signed && do {
						verifySection(t, name+" "+typeName(qt), key, r.Answer)
					}
				}
				var from []string
				for _, c := range ix.Explain(name, qt, client).Candidates {
					if c.Answered {
						from = append(from, c.Name)
					}
				}
				if !slices.Equal(from, []string{"us-east", "eu-paris"}) {
					t.Errorf("explain %s from %s: answered %q, want us-east and eu-paris", typeName(qt), client, from)
				}
			}
		})
	}
}

// answeredAddrs are the addresses of an answer section: A and AAAA
// records, and HTTPS hints.
func answeredAddrs(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		case *dns.HTTPS:
			for _, kv := range rr.Value {
				switch kv := kv.(type) {
				case *dns.SVCBIPv4Hint:
					for _, ip := range kv.Hint {
						out = append(out, ip.String())
					}
				case *dns.SVCBIPv6Hint:
					for _, ip := range kv.Hint {
						out = append(out, ip.String())
					}
				}
			}
		}
	}
	return out
}

// TestSharedAddressCountedOnce: the metrics of an answer whose address two
// candidates hold (us-east and us-central, one load balancer registered
// twice) count the candidate it was answered from, the one ranked first,
// compiled per class as answered live: us-east for a New York client,
// us-central for a San Francisco one.
func TestSharedAddressCountedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"us-east", "eu-west", "ap-northeast", "us-central", "eu-paris"}
	opts := Options{GeoIP: db, OriginSlot: func(name string) int { return slices.Index(names, name) }}
	for _, live := range []bool{false, true} {
		if live {
			defer SetLiveBudget(SetLiveBudget(0))
		}
		ix, err := Compile(sharedSnapshot(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			client string
			want   []string
		}{
			{gslbtest.NewYork, []string{"us-east", "eu-paris"}},
			{gslbtest.SanFrancisco, []string{"us-central", "ap-northeast"}},
		} {
			m := new(dns.Msg)
			m.SetQuestion("shared."+gslbtest.Zone, dns.TypeA)
			client := netip.MustParsePrefix(tt.client)
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, ecsOption(client, client.Bits()))
			pkt, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			var q wire.Query
			wire.Parse(pkt, &q)
			_, out := ix.Respond(make([]byte, 0, 4096), &q, netip.MustParseAddr("192.0.2.1"), 4096)
			var got []string
			for _, s := range out.Slots {
				got = append(got, names[s])
			}
			for _, s := range out.LiveSlots() {
				got = append(got, names[s])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("live %v: shared A from %s counted for %q, want %q", live, tt.client, got, tt.want)
			}
		}
	}
}
