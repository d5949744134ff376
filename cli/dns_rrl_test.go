package cli

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb"
)

func TestDNSRRLOptions(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    dnsgslb.RRLConfig
		wantErr string
	}{
		{args: nil, want: dnsgslb.DefaultRRL()},
		{args: []string{"--rrl-rate", "0"}, want: func() dnsgslb.RRLConfig { c := dnsgslb.DefaultRRL(); c.ResponsesPerSecond = 0; return c }()},
		{args: []string{"--rrl-rate", "20", "--rrl-slip", "1", "--rrl-ipv4-prefix", "32", "--rrl-ipv6-prefix", "64", "--rrl-exempt", "192.0.2.0/24,2001:db8::1", "--rrl-table-size", "1000"},
			want: dnsgslb.RRLConfig{ResponsesPerSecond: 20, Slip: 1, IPv4PrefixLen: 32, IPv6PrefixLen: 64, TableSize: 1000,
				Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}}},
		{args: []string{"--rrl-rate", "-1"}, wantErr: "--rrl-rate -1: want 0 (off) to 1000000 responses a second"},
		{args: []string{"--rrl-slip", "11"}, wantErr: "--rrl-slip 11: want 0 (drop all) to 10"},
		{args: []string{"--rrl-ipv4-prefix", "0"}, wantErr: "--rrl-ipv4-prefix 0: want 1 to 32"},
		{args: []string{"--rrl-ipv6-prefix", "129"}, wantErr: "--rrl-ipv6-prefix 129: want 1 to 128"},
		{args: []string{"--rrl-exempt", "10.0.0.0/33"}, wantErr: `--rrl-exempt "10.0.0.0/33": want a network such as 192.0.2.0/24 or 2001:db8::/32`},
		{args: []string{"--rrl-exempt", "10.1.2.3/8"}, wantErr: `--rrl-exempt "10.1.2.3/8": host bits set; did you mean 10.0.0.0/8?`},
		{args: []string{"--rrl-exempt", "::ffff:192.0.2.0/120"}, wantErr: `--rrl-exempt "::ffff:192.0.2.0/120": an IPv4-mapped network, which clients are matched as IPv4: write 192.0.2.0/24`},
		{args: []string{"--rrl-table-size", "-5"}, wantErr: "--rrl-table-size -5: want 0 (default) to 67108864"},
	} {
		o, err := dnsOptions(t, tc.args...)
		if tc.wantErr != "" {
			checkErr(t, err, tc.wantErr, true)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		got := *o.Server.RRL
		if !slices.Equal(got.Exempt, tc.want.Exempt) {
			t.Errorf("%q: exempt %v, want %v", tc.args, got.Exempt, tc.want.Exempt)
		}
		got.Exempt, tc.want.Exempt = nil, nil
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.args, got, tc.want)
		}
	}
}
