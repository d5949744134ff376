package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// writeDNSKEYSets says, per signed zone, which DNSKEY RRset the DNS
// servers streaming from the replica answer: one line when they agree;
// when they do not (a validating resolver then fails at some of them),
// a warning naming each server and the key tags it answers, or that it
// has no keys and answers unsigned.
func writeDNSKEYSets(w io.Writer, servers []*v1.DnsServerEntry) {
	sets := map[string]map[*v1.DnsServerEntry]*v1.DnssecKeySet{}
	for _, d := range servers {
		for _, s := range d.GetDnssecKeySets() {
			if sets[s.GetZone()] == nil {
				sets[s.GetZone()] = map[*v1.DnsServerEntry]*v1.DnssecKeySet{}
			}
			sets[s.GetZone()][d] = s
		}
	}
	for _, zone := range slices.Sorted(maps.Keys(sets)) {
		byServer := sets[zone]
		digests := map[string]bool{}
		for _, s := range byServer {
			digests[s.GetDigest()] = true
		}
		if len(digests) == 1 && len(byServer) == len(servers) {
			for _, s := range byServer {
				fmt.Fprintf(w, "  DNSSEC %s: all %d servers answer the same DNSKEY set: %s\n", zone, len(servers), keyTags(s))
				break
			}
			continue
		}
		fmt.Fprintf(w, "  DNSSEC %s: SERVERS DISAGREE on the DNSKEY set; validating resolvers fail at some of them:\n", zone)
		for _, d := range servers {
			keys := "no keys for the zone: answers unsigned"
			if s := byServer[d]; s != nil {
				keys = keyTags(s)
			}
			fmt.Fprintf(w, "    %s (%s): %s\n", d.GetName(), d.GetAddress(), keys)
		}
	}
}

// keyTags lists a DNSKEY RRset's keys: tag, algorithm, KSK/CSK or ZSK,
// and whether revoked (RFC 5011) or signing.
func keyTags(s *v1.DnssecKeySet) string {
	var out []string
	for _, k := range s.GetKeys() {
		role := "zsk"
		if k.GetFlags()&dns.SEP != 0 {
			role = "ksk/csk"
		}
		alg := dns.AlgorithmToString[uint8(k.GetAlgorithm())]
		if alg == "" {
			alg = fmt.Sprint(k.GetAlgorithm())
		}
		if k.GetFlags()&dns.REVOKE != 0 {
			role += " revoked"
		}
		if k.GetSigning() {
			role += " signing"
		}
		out = append(out, fmt.Sprintf("%d %s %s", k.GetKeyTag(), alg, role))
	}
	if len(out) == 0 {
		return "no published key"
	}
	return "key " + strings.Join(out, ", key ")
}
