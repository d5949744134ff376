package cli

import (
	"net/netip"

	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/dnsgslb"
)

// rrlFlags are the response rate limiting flags of `anyctl dns`.
type rrlFlags struct {
	rate, slip int
	ipv4, ipv6 int
	exempt     []string
	tableSize  int
}

func (f *rrlFlags) register(fs *pflag.FlagSet) {
	d := dnsgslb.DefaultRRL()
	var exempt []string
	for _, p := range d.Exempt {
		exempt = append(exempt, p.String())
	}
	fs.IntVar(&f.rate, "rrl-rate", d.ResponsesPerSecond, "response rate limiting: UDP responses a second per client network, name and type (NODATA: per name; referrals: per zone cut; NXDOMAIN: per zone; errors: per network), also the burst; queries with a valid server cookie and TCP are not limited; 0 turns it off")
	fs.IntVar(&f.slip, "rrl-slip", d.Slip, "every Nth rate-limited response is sent truncated (TC) so real clients retry over TCP, the others dropped; 1 truncates all, 0 drops all")
	fs.IntVar(&f.ipv4, "rrl-ipv4-prefix", d.IPv4PrefixLen, "IPv4 prefix length grouping clients into one rate limiting network")
	fs.IntVar(&f.ipv6, "rrl-ipv6-prefix", d.IPv6PrefixLen, "IPv6 prefix length grouping clients into one rate limiting network")
	fs.StringSliceVar(&f.exempt, "rrl-exempt", exempt, "networks never rate limited (comma-separated CIDRs), besides the PoPs' cache networks")
	fs.IntVar(&f.tableSize, "rrl-table-size", 0, "rate limiting budgets tracked at once, rounded up to a power of two; 0 for 262144 (2 MiB)")
}

// options checks the flags; every error names the flag and its value.
func (f *rrlFlags) options() (*dnsgslb.RRLConfig, error) {
	c := &dnsgslb.RRLConfig{ResponsesPerSecond: f.rate, Slip: f.slip, IPv4PrefixLen: f.ipv4, IPv6PrefixLen: f.ipv6, TableSize: f.tableSize}
	switch {
	case f.rate < 0 || f.rate > 1_000_000:
		return nil, UsageErrorf("--rrl-rate %d: want 0 (off) to 1000000 responses a second", f.rate)
	case f.slip < 0 || f.slip > 10:
		return nil, UsageErrorf("--rrl-slip %d: want 0 (drop all) to 10", f.slip)
	case f.ipv4 < 1 || f.ipv4 > 32:
		return nil, UsageErrorf("--rrl-ipv4-prefix %d: want 1 to 32", f.ipv4)
	case f.ipv6 < 1 || f.ipv6 > 128:
		return nil, UsageErrorf("--rrl-ipv6-prefix %d: want 1 to 128", f.ipv6)
	case f.tableSize < 0 || f.tableSize > 1<<26:
		return nil, UsageErrorf("--rrl-table-size %d: want 0 (default) to %d", f.tableSize, 1<<26)
	}
	for _, s := range f.exempt {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return nil, UsageErrorf("--rrl-exempt %q: want a network such as 192.0.2.0/24 or 2001:db8::/32", s)
			}
		}
		if p != p.Masked() {
			return nil, UsageErrorf("--rrl-exempt %q: host bits set; did you mean %s?", s, p.Masked())
		}
		if p.Addr().Is4In6() {
			// Sources are matched unmapped: a mapped network never would.
			if p.Bits() < 96 {
				return nil, UsageErrorf("--rrl-exempt %q: covers IPv4-mapped addresses, which clients are matched as IPv4: write the IPv4 networks", s)
			}
			return nil, UsageErrorf("--rrl-exempt %q: an IPv4-mapped network, which clients are matched as IPv4: write %s", s, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96))
		}
		c.Exempt = append(c.Exempt, p)
	}
	return c, nil
}
