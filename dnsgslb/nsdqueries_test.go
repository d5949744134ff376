package dnsgslb_test

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// nsdQuery is one question asked of both servers.
type nsdQuery struct {
	name  string
	qtype uint16
}

// nsdQueries asks every name of the zone, names below them, missing ones,
// names at and below the delegation and the same names in other case, for
// each type a static record has, ANY and a type nobody has. A name ending
// in a dot is absolute, others are in the test zone.
func nsdQueries() []nsdQuery {
	names := []string{
		gslbtest.Zone, "www", "alias", "txt", "a.deep", "big", "sel._domainkey", "mx1", "_sip._tcp", "svc", "ns1", "twice",
		// Empty non-terminals.
		"deep", "_domainkey", "_tcp",
		// Below an owner, and missing names.
		"x.www", "x.a.deep", "x.alias", "missing", "nearest",
		// At and below the delegation.
		"child", "ns1.child", "www.child", "a.b.child",
		// Case.
		"GSLB.Example.Com.", "WWW", "Alias", "Sel._DomainKey", "CHILD", "Ns1.Child", "X.Www", "MiSsInG",
		// Outside the zone: its parent, and a name of another zone.
		"example.com.", "www.example.org.",
	}
	types := []uint16{
		dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeSRV, dns.TypeCAA, dns.TypeNS, dns.TypeSOA,
		dns.TypeCNAME, dns.TypeSVCB, dns.TypeHTTPS, dns.TypeDS, dns.TypeANY, 65280,
	}
	var out []nsdQuery
	for _, n := range names {
		if !strings.HasSuffix(n, ".") {
			n += "." + gslbtest.Zone
		}
		for _, qt := range types {
			out = append(out, nsdQuery{n, qt})
		}
	}
	return out
}
