package validation

import (
	"errors"
	"testing"
)

func TestCheckASN(t *testing.T) {
	cases := []struct {
		asn  uint32
		want string
	}{
		{0, "ASN 0 is reserved (RFC 7607)"},
		{23456, "ASN 23456 is AS_TRANS (RFC 6793)"},
		{65535, "ASN 65535 is reserved (RFC 7300)"},
		{4294967295, "ASN 4294967295 is reserved (RFC 7300)"},
		{1, ""},
		{64512, ""},
		{65534, ""},
		{65536, ""},
		{4200000000, ""},
	}
	for _, tc := range cases {
		err := CheckASN(tc.asn)
		if got := errString(err); got != tc.want {
			t.Errorf("CheckASN(%d) = %q, want %q", tc.asn, got, tc.want)
		}
		if err != nil && !errors.Is(err, ErrReservedASN) {
			t.Errorf("errors.Is(CheckASN(%d), ErrReservedASN) = false", tc.asn)
		}
	}
}

func TestParseCommunities(t *testing.T) {
	cases := []struct {
		in   string
		want uint32
		err  bool
	}{
		{"0:0", 0, false},
		{"65535:65281", 0xffffff01, false},
		{"64512:100", 64512<<16 | 100, false},
		{"65536:1", 0, true},
		{"1:-1", 0, true},
		{"1:2:3", 0, true},
		{"NO_EXPORT", 0, true},
		{" 1:2", 0, true},
		{"65535:0", 0xffff0000, false},
		{"1:65536", 0, true},
		{"65000", 0, true},
		{"a:1", 0, true},
		{"", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseCommunity(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseCommunity(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrCommunity) {
			t.Errorf("errors.Is(ParseCommunity(%q), ErrCommunity) = false", tc.in)
		}
	}
	large := []struct {
		in   string
		want [3]uint32
		err  bool
	}{
		{"4294967295:0:1", [3]uint32{4294967295, 0, 1}, false},
		{"4294967296:0:1", [3]uint32{}, true},
		{"1:2", [3]uint32{}, true},
		{"1::2", [3]uint32{}, true},
		{"65000:1:2", [3]uint32{65000, 1, 2}, false},
		{"1:2:3:4", [3]uint32{}, true},
		{"", [3]uint32{}, true},
	}
	for _, tc := range large {
		got, err := ParseLargeCommunity(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseLargeCommunity(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
