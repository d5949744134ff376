package validation

import (
	"errors"
	"fmt"
)

// ErrReservedASN is matched (errors.Is) by CheckASN's refusals.
var ErrReservedASN = errors.New("reserved ASN")

// CheckASN refuses an AS number that no BGP speaker may use: 0 (RFC 7607),
// 23456 AS_TRANS (RFC 6793), and the last 2-byte and 4-byte numbers, 65535
// and 4294967295 (RFC 7300). The message names the number, so callers need
// not repeat it.
func CheckASN(asn uint32) error {
	var msg string
	switch asn {
	case 0:
		msg = "ASN 0 is reserved (RFC 7607)"
	case 23456:
		msg = "ASN 23456 is AS_TRANS (RFC 6793)"
	case 65535, 4294967295:
		msg = fmt.Sprintf("ASN %d is reserved (RFC 7300)", asn)
	default:
		return nil
	}
	return &ruleError{kind: ErrReservedASN, msg: msg}
}
