package speaker

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// GracefulShutdown is the RFC 8326 GRACEFUL_SHUTDOWN community, 65535:0.
const GracefulShutdown uint32 = 0xFFFF0000

// LargeCommunity is an RFC 8092 large community, GLOBAL:LOCAL1:LOCAL2.
type LargeCommunity struct {
	Global, Local1, Local2 uint32
}

// String is the "GLOBAL:LOCAL1:LOCAL2" form.
func (c LargeCommunity) String() string {
	return fmt.Sprintf("%d:%d:%d", c.Global, c.Local1, c.Local2)
}

func (c LargeCommunity) compare(d LargeCommunity) int {
	if r := cmp.Compare(c.Global, d.Global); r != 0 {
		return r
	}
	if r := cmp.Compare(c.Local1, d.Local1); r != 0 {
		return r
	}
	return cmp.Compare(c.Local2, d.Local2)
}

// FormatCommunity is the "ASN:VALUE" form of an RFC 1997 community.
func FormatCommunity(c uint32) string {
	return fmt.Sprintf("%d:%d", c>>16, c&0xFFFF)
}

// ParseCommunity reads an RFC 1997 community written "ASN:VALUE", each part
// 0..65535.
func ParseCommunity(s string) (uint32, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 {
		return 0, fmt.Errorf("community %q: want ASN:VALUE, as in \"65000:100\"", s)
	}
	var v [2]uint32
	for i, part := range parts {
		n, err := strconv.ParseUint(part, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("community %q: part %q is not a number in 0..65535: %w", s, part, err)
		}
		v[i] = uint32(n)
	}
	return v[0]<<16 | v[1], nil
}

// ParseLargeCommunity reads an RFC 8092 large community written
// "GLOBAL:LOCAL1:LOCAL2", each part 0..4294967295.
func ParseLargeCommunity(s string) (LargeCommunity, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return LargeCommunity{}, fmt.Errorf("large community %q: want GLOBAL:LOCAL1:LOCAL2, as in \"65000:1:2\"", s)
	}
	var v [3]uint32
	for i, part := range parts {
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil {
			return LargeCommunity{}, fmt.Errorf("large community %q: part %q is not a number in 0..4294967295: %w", s, part, err)
		}
		v[i] = uint32(n)
	}
	return LargeCommunity{Global: v[0], Local1: v[1], Local2: v[2]}, nil
}
