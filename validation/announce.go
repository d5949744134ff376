package validation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// AS-path prepend limits. Many networks filter AS paths longer than
// maxPathPrepend prepends, and a drain adds DrainPrepend to a service's own
// (compile takes it from here), so a service may ask for at most
// MaxAsPathPrepend: a drained route must stay within the limit, or the
// PoP's BGP speaker could not send it.
const (
	maxPathPrepend = 16
	// DrainPrepend is the extra prepend count of a draining PoP's routes.
	DrainPrepend     = 3
	drainPrepend     = DrainPrepend
	MaxAsPathPrepend = maxPathPrepend - drainPrepend
)

// ErrCommunity is matched (errors.Is) by malformed communities.
var ErrCommunity = errors.New("malformed community")

// ParseCommunity parses an RFC 1997 community written "ASN:VALUE", each part
// in 0..65535.
func ParseCommunity(s string) (uint32, error) {
	parts, ok := splitUints(s, 2, 16)
	if !ok {
		return 0, &ruleError{kind: ErrCommunity, msg: "not ASN:VALUE with both parts in 0..65535"}
	}
	return uint32(parts[0])<<16 | uint32(parts[1]), nil
}

// ParseLargeCommunity parses an RFC 8092 large community written
// "GLOBAL:LOCAL1:LOCAL2", each part in 0..4294967295.
func ParseLargeCommunity(s string) ([3]uint32, error) {
	parts, ok := splitUints(s, 3, 32)
	if !ok {
		return [3]uint32{}, &ruleError{kind: ErrCommunity, msg: "not GLOBAL:LOCAL1:LOCAL2 with each part in 0..4294967295"}
	}
	return [3]uint32{uint32(parts[0]), uint32(parts[1]), uint32(parts[2])}, nil
}

// splitUints splits s at ':' into exactly n decimal numbers of the given
// bit size.
func splitUints(s string, n, bits int) ([]uint64, bool) {
	fields := strings.Split(s, ":")
	if len(fields) != n {
		return nil, false
	}
	out := make([]uint64, n)
	for i, f := range fields {
		v, err := strconv.ParseUint(f, 10, bits)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// checkAnnounce applies the announce attribute rules at path.
func checkAnnounce(r report, path string, a *v1.AnnounceAttributes) {
	checkCommunities(r, path, a.GetCommunities(), a.GetLargeCommunities())
	if n := a.GetAsPathPrepend(); n > MaxAsPathPrepend {
		r.add(path+".asPathPrepend", fmt.Sprint(n), fmt.Sprintf("at most %d, so that a drain's %d extra prepends stay within %d", MaxAsPathPrepend, drainPrepend, maxPathPrepend))
	}
}

// checkCommunities checks the communities and large communities listed at
// path (a service's or a peer's announce).
func checkCommunities(r report, path string, communities, large []string) {
	for i, c := range communities {
		if _, err := ParseCommunity(c); err != nil {
			r.addErr(idx(path+".communities", i), c, err)
		}
	}
	for i, c := range large {
		if _, err := ParseLargeCommunity(c); err != nil {
			r.addErr(idx(path+".largeCommunities", i), c, err)
		}
	}
}
