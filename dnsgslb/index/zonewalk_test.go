package index

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// signedSnapshot is the test snapshot with an AAAA record that has nothing
// to answer, and a signer of its zone by a new key.
func signedSnapshot(t *testing.T) (*v1.GslbSnapshot, *dnssec.Signer, *dnssec.Key) {
	t.Helper()
	key, err := dnssec.Generate(t.TempDir(), gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, signedAt.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := dnssec.NewSigner(gslbtest.Zone, []*dnssec.Key{key}, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	snap := gslbtest.RealZone()
	v4only := proto.Clone(snap.GetRecords()[0]).(*v1.GslbRecord)
	v4only.Metadata.Name, v4only.Spec.Name, v4only.Spec.Type = "v4only", "v4only", v1.RecordType_RECORD_TYPE_AAAA
	v4only.Spec.Origins = []string{"us-west"}
	snap.Records = append(snap.Records, v4only)
	return snap, signer, key
}

// walkIndex compiles the test snapshot, with an AAAA record that has
// nothing to answer, its zone changed by edit and signed by a new key.
func walkIndex(t *testing.T, edit func(z *v1.GslbZoneSpec)) (*Index, *dnssec.Key) {
	t.Helper()
	snap, signer, key := signedSnapshot(t)
	edit(snap.GetZones()[0].GetSpec())
	ix, err := Compile(snap, Options{
		Signers: map[string]*dnssec.Signer{gslbtest.Zone: signer},
		Now:     func() time.Time { return signedAt },
	})
	if err != nil {
		t.Fatal(err)
	}
	return ix, key
}

var walkTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeTXT, dns.TypeMX, dns.TypeNS, dns.TypeDS,
	dns.TypeSOA, dns.TypeDNSKEY, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeSRV, dns.TypeCAA, dns.TypeHINFO, dns.TypeNSEC}

var walkClients = []netip.Prefix{netip.MustParsePrefix(gslbtest.PopTokyo), netip.MustParsePrefix(gslbtest.PopLondon),
	netip.MustParsePrefix(gslbtest.PopNewYork)}

// commonAncestor is the longest common ancestor of two names.
func commonAncestor(a, b string) string {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	n := 0
	for n < len(la) && n < len(lb) && la[len(la)-1-n] == lb[len(lb)-1-n] {
		n++
	}
	return dns.Fqdn(strings.Join(la[len(la)-n:], "."))
}

// checkReply judges one signed reply as a validator would.
func checkReply(t *testing.T, what string, key *dnssec.Key, negTTL uint32, qname string, qtype uint16, r *dns.Msg) {
	t.Helper()
	z := gslbtest.Zone
	for _, rr := range slices.Concat(r.Answer, r.Ns) {
		if s, ok := rr.(*dns.RRSIG); ok {
			if int(s.Labels) != dns.CountLabel(s.Hdr.Name) || s.SignerName != z {
				t.Errorf("%s: RRSIG %v: labels or signer wrong", what, s)
			}
		}
	}
	verifySection(t, what+" answer", key, r.Answer)
	referral := !r.Authoritative && slices.ContainsFunc(r.Ns, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeNS })
	auth := r.Ns
	if referral {
		auth = slices.DeleteFunc(slices.Clone(r.Ns), func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeNS })
	}
	nsecs := verifySection(t, what+" authority", key, auth)
	for _, n := range nsecs {
		if n.Hdr.Ttl != negTTL {
			t.Errorf("%s: NSEC %s TTL %d, want %d", what, n.Hdr.Name, n.Hdr.Ttl, negTTL)
		}
		if !slices.Contains(n.TypeBitMap, dns.TypeRRSIG) || !slices.Contains(n.TypeBitMap, dns.TypeNSEC) {
			t.Errorf("%s: NSEC %v lacks RRSIG or NSEC", what, n)
		}
	}
	switch {
	case referral:
		cut := ""
		for _, rr := range r.Ns {
			if rr.Header().Rrtype == dns.TypeNS {
				cut = rr.Header().Name
			}
		}
		hasDS := slices.ContainsFunc(auth, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeDS })
		if !hasDS {
			if len(nsecs) != 1 || !strings.EqualFold(nsecs[0].Hdr.Name, cut) {
				t.Errorf("%s: referral to %s without DS or the cut's NSEC: %v", what, cut, r.Ns)
				return
			}
			for _, b := range nsecs[0].TypeBitMap {
				if b != dns.TypeNS && b != dns.TypeRRSIG && b != dns.TypeNSEC {
					t.Errorf("%s: NSEC at cut %s has %s (RFC 4035 section 2.3: the parent is not authoritative for it)", what, cut, dns.TypeToString[b])
				}
			}
			if !slices.Contains(nsecs[0].TypeBitMap, dns.TypeNS) {
				t.Errorf("%s: NSEC at cut %s has no NS", what, cut)
			}
		}
	case r.Rcode == dns.RcodeNameError:
		var cover *dns.NSEC
		for _, n := range nsecs {
			if covers(n, qname) && !strings.EqualFold(n.Hdr.Name, qname) {
				cover = n
			}
		}
		if cover == nil {
			t.Errorf("%s: NXDOMAIN without an NSEC covering the name: %v", what, nsecs)
			return
		}
		ce := commonAncestor(qname, cover.Hdr.Name)
		if c2 := commonAncestor(qname, cover.NextDomain); dns.CountLabel(c2) > dns.CountLabel(ce) {
			ce = c2
		}
		if !slices.ContainsFunc(nsecs, func(n *dns.NSEC) bool { return covers(n, "*."+ce) && !strings.EqualFold(n.Hdr.Name, "*."+ce) }) {
			t.Errorf("%s: NXDOMAIN without an NSEC covering the wildcard *.%s: %v", what, ce, nsecs)
		}
	case len(r.Answer) == 0:
		if r.Rcode != dns.RcodeSuccess {
			return
		}
		soa := slices.IndexFunc(r.Ns, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeSOA })
		if soa < 0 || r.Ns[soa].Header().Ttl != negTTL {
			t.Errorf("%s: NODATA SOA missing or TTL not %d: %v", what, negTTL, r.Ns)
		}
		ok := slices.ContainsFunc(nsecs, func(n *dns.NSEC) bool {
			if strings.EqualFold(n.Hdr.Name, qname) {
				return !slices.Contains(n.TypeBitMap, qtype) && !slices.Contains(n.TypeBitMap, dns.TypeCNAME)
			}
			return covers(n, qname) && dns.IsSubDomain(qname, n.NextDomain)
		})
		if !ok {
			t.Errorf("%s: NODATA without a proof: %v", what, nsecs)
		}
	default:
		if qtype != dns.TypeCNAME && r.Answer[0].Header().Rrtype == dns.TypeCNAME {
			return
		}
		if !slices.ContainsFunc(r.Answer, func(rr dns.RR) bool { return rr.Header().Rrtype == qtype || qtype == dns.TypeANY }) {
			t.Errorf("%s: answer without the type: %v", what, r.Answer)
		}
	}
}

// TestWalkSignedZone asks a signed zone for every owner name and type and
// for names that do not exist around each, and judges each reply as a
// validator would; and checks that each NSEC's bitmap lists what the name
// answers.
func TestWalkSignedZone(t *testing.T) {
	ix, key := walkIndex(t, func(z *v1.GslbZoneSpec) {
		z.Records = append(z.Records,
			// A signed child, and an unsigned one that is also a name
			// server of the zone, with its address.
			&v1.StaticRecord{Name: "sec", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}},
			&v1.StaticRecord{Name: "sec", Type: v1.RecordType_RECORD_TYPE_DS, Values: []string{"12345 13 2 " + strings.Repeat("ab", 32)}},
			&v1.StaticRecord{Name: "dns", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}},
			// Empty non-terminals two deep.
			&v1.StaticRecord{Name: "x.y.ent", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"ent"}},
		)
		z.NameServers = append(z.NameServers, &v1.NameServer{Name: "dns", Addresses: []string{"192.0.2.54"}})
	})
	walkZone(t, ix, key)
}

// walkZone is TestWalkSignedZone's walk of ix, signed by key.
func walkZone(t *testing.T, ix *Index, key *dnssec.Key) {
	t.Helper()
	z := ix.zones[wireKey(gslbtest.Zone)]
	negTTL := z.negTTL()
	var names []string
	for _, n := range ix.names {
		if n.zone == z {
			names = append(names, n.name)
		}
	}
	slices.SortFunc(names, dnssec.Compare)
	ask := func(name string, qtype uint16) {
		for _, c := range walkClients {
			r := askFromDO(t, ix, name, qtype, c, true)
			what := name + " " + dns.TypeToString[qtype] + " from " + c.String()
			checkReply(t, what, key, negTTL, name, qtype, r)
			for _, rr := range r.Ns {
				switch rr := rr.(type) {
				case *dns.SOA:
					if rr.Serial != z.soa.Serial {
						t.Errorf("%s: SOA serial %d, want the zone's %d", what, rr.Serial, z.soa.Serial)
					}
				case *dns.NSEC:
					if c := z.signing.chain.Covering(rr.Hdr.Name); c.Hdr.Name != rr.Hdr.Name || c.NextDomain != rr.NextDomain {
						t.Errorf("%s: NSEC %v is not the chain's %v", what, rr, c)
					}
				}
			}
		}
	}
	for _, name := range names {
		for _, qt := range walkTypes {
			ask(name, qt)
		}
		if name == gslbtest.Zone {
			continue
		}
		first, rest, _ := strings.Cut(name, ".")
		for _, nx := range []string{"zz-nx." + name, first + "-nx." + rest, "0." + name, "\\000." + name} {
			ask(nx, dns.TypeA)
			ask(nx, dns.TypeTXT)
		}
	}
	// Each NSEC lists the types its owner answers, and lists no other
	// but those of a GslbRecord, which may answer with a CNAME to a name
	// origin or deny its type with an NSEC of the name without it. A
	// name origin's CNAME, answered to a CNAME query too, is not listed:
	// validators take a positive CNAME on its RRSIG, and a listed CNAME
	// would disprove every NODATA at the name.
	for _, n := range z.signing.chain.NSEC {
		nd := ix.names[wireKey(n.Hdr.Name)]
		for _, qt := range walkTypes {
			r := askFromDO(t, ix, n.Hdr.Name, qt, walkClients[0], true)
			in := slices.Contains(n.TypeBitMap, qt)
			positive := len(r.Answer) > 0 && r.Answer[0].Header().Rrtype == qt
			gslb := nd != nil && nd.find(qt) != nil && nd.find(qt).rec != nil
			alias := nd != nil && qt == dns.TypeCNAME && nd.aliasRecord() != nil
			if r.Authoritative && in != positive && !(in && gslb) && !(positive && alias) {
				t.Errorf("NSEC %s lists %s: %v; answer %v", n.Hdr.Name, dns.TypeToString[qt], in, r.Answer)
			}
			if !r.Authoritative && in && qt != dns.TypeNS && qt != dns.TypeDS && qt != dns.TypeNSEC {
				t.Errorf("NSEC %s at a cut lists %s", n.Hdr.Name, dns.TypeToString[qt])
			}
		}
	}
}

// TestSignedNSECQuery: a query for type NSEC at a name of a signed zone's
// chain is answered with the name's NSEC, signed. A NODATA would carry
// that NSEC as its proof, whose bitmap lists NSEC: a validating resolver
// takes the proof for bogus and answers SERVFAIL.
func TestSignedNSECQuery(t *testing.T) {
	ix, key := signedIndex(t)
	z := ix.zones[wireKey(gslbtest.Zone)]
	for _, name := range []string{gslbtest.Zone, "www." + gslbtest.Zone, "alias." + gslbtest.Zone, "nearest." + gslbtest.Zone, "v4only." + gslbtest.Zone} {
		r := ask(t, ix, name, dns.TypeNSEC, true)
		if len(r.Answer) == 0 {
			t.Errorf("%s NSEC: no answer: %v", name, r)
			continue
		}
		verifySection(t, name+" NSEC", key, r.Answer)
		if n, ok := r.Answer[0].(*dns.NSEC); !ok || n.String() != z.signing.chain.Covering(name).String() {
			t.Errorf("%s NSEC: answer %v, want the chain's NSEC", name, r.Answer)
		}
	}
	// An empty non-terminal has no NSEC: NODATA, proved by the one
	// covering it.
	if r := ask(t, ix, "deep."+gslbtest.Zone, dns.TypeNSEC, true); len(r.Answer) != 0 || r.Rcode != dns.RcodeSuccess {
		t.Errorf("deep NSEC: %v, want NODATA", r)
	}
}

// TestWalkSignedZoneAfterUpdates walks the signed zone after updates that
// reuse the previous index's signatures and records: a new serial, a name
// added (which moves the NSEC chain under reused negative answers), the
// serial following the revision, and an origin down.
func TestWalkSignedZoneAfterUpdates(t *testing.T) {
	snap, signer, key := signedSnapshot(t)
	opts := Options{Signers: map[string]*dnssec.Signer{gslbtest.Zone: signer}, Now: func() time.Time { return signedAt }}
	ix, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, edit := range []func(*v1.GslbSnapshot){
		func(s *v1.GslbSnapshot) { s.Zones[0].Spec.Soa.Serial++ },
		func(s *v1.GslbSnapshot) {
			s.Zones[0].Spec.Records = append(s.Zones[0].Spec.Records, &v1.StaticRecord{Name: "v4onlz", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"x"}})
		},
		func(s *v1.GslbSnapshot) { s.Zones[0].Spec.Soa.Serial = 0; s.Revision++ },
		func(s *v1.GslbSnapshot) { gslbtest.SetHealthy(s, "us-west", false) },
	} {
		snap = proto.Clone(snap).(*v1.GslbSnapshot)
		edit(snap)
		opts.Previous = ix
		opts.Now = func() time.Time { return signedAt.Add(time.Duration(i+1) * time.Hour) }
		if ix, err = Compile(snap, opts); err != nil {
			t.Fatal(err)
		}
		walkZone(t, ix, key)
	}
}
