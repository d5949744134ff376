package speaker

import (
	"cmp"
	"fmt"
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
