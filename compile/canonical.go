package compile

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/anyctl/anyctl/validation"
)

// canonicalSet parses each string, drops duplicates, sorts the parsed values
// with compare and formats them back. Strings that do not parse follow,
// sorted and deduplicated as text, so nothing the operator wrote is lost.
func canonicalSet[K any](in []string, parse func(string) (K, bool), compare func(a, b K) int, format func(K) string) []string {
	if len(in) == 0 {
		return nil
	}
	parsed := make([]K, 0, len(in))
	var bad []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if k, ok := parse(s); ok {
			parsed = append(parsed, k)
		} else {
			bad = append(bad, s)
		}
	}
	slices.SortFunc(parsed, compare)
	parsed = slices.CompactFunc(parsed, func(a, b K) bool { return compare(a, b) == 0 })
	slices.Sort(bad)
	bad = slices.Compact(bad)
	out := make([]string, 0, len(parsed)+len(bad))
	for _, k := range parsed {
		out = append(out, format(k))
	}
	return append(out, bad...)
}

// canonicalPrefixes masks each prefix to its network address and sorts them
// IPv4 first, then by address, then shorter first.
func canonicalPrefixes(in []string) []string {
	return canonicalSet(in, parsePrefix, netip.Prefix.Compare, netip.Prefix.String)
}

func parsePrefix(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// canonicalCommunities sorts RFC 1997 communities ("ASN:VALUE") numerically.
func canonicalCommunities(in []string) []string {
	return canonicalSet(in, parseCommunity, cmp.Compare[uint32], formatCommunity)
}

func parseCommunity(s string) (uint32, bool) {
	c, err := validation.ParseCommunity(s)
	return c, err == nil
}

func formatCommunity(c uint32) string {
	return strconv.FormatUint(uint64(c>>16), 10) + ":" + strconv.FormatUint(uint64(c&0xffff), 10)
}

// largeCommunity is an RFC 8092 community: global administrator and two
// local data parts.
type largeCommunity [3]uint32

// canonicalLargeCommunities sorts RFC 8092 communities
// ("GLOBAL:LOCAL1:LOCAL2") numerically.
func canonicalLargeCommunities(in []string) []string {
	return canonicalSet(in, parseLargeCommunity, compareLargeCommunity, formatLargeCommunity)
}

func parseLargeCommunity(s string) (largeCommunity, bool) {
	c, err := validation.ParseLargeCommunity(s)
	return c, err == nil
}

func compareLargeCommunity(a, b largeCommunity) int {
	for i := range a {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func formatLargeCommunity(c largeCommunity) string {
	return strconv.FormatUint(uint64(c[0]), 10) + ":" + strconv.FormatUint(uint64(c[1]), 10) + ":" + strconv.FormatUint(uint64(c[2]), 10)
}
