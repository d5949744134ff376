package cli

import (
	"fmt"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
)

func init() { register(newDNSSECCommand) }

func newDNSSECCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dnssec",
		Short: "Manage the keys that sign GSLB zones (files on the DNS servers)",
		Long: `Manage the DNSSEC keys of GSLB zones. Keys are BIND-format key files
(K<zone>+<alg>+<tag>.key and .private) in a directory on each DNS server;
every server of a zone must hold the same files. Private keys never go to the
controller, etcd, the GSLB snapshot or any API output.`,
	}
	cmd.AddCommand(newDNSSECKeygenCommand(g), newDNSSECDSCommand(g))
	return cmd
}

func newDNSSECKeygenCommand(g *globals) *cobra.Command {
	var dir, alg, role string
	cmd := &cobra.Command{
		Use:   "keygen ZONE",
		Short: "Generate a key for ZONE into --dir and print its DS record",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			a, err := dnssec.ParseAlgorithm(alg)
			if err != nil {
				return UsageErrorf("--algorithm %w", err)
			}
			r, err := dnssec.ParseRole(role)
			if err != nil {
				return UsageErrorf("--role %w", err)
			}
			if dir == "" {
				return UsageErrorf("--dir is required: the key directory the DNS servers read (anyctl dns --dnssec-keys)")
			}
			k, err := dnssec.Generate(dir, args[0], a, r, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "wrote %s.key and %s.private (%s)\n", k.File, k.File, k)
			if r != dnssec.ZSK {
				fmt.Fprintf(g.stdout, "give the parent zone this DS record:\n%s\n", k.DS())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "key directory (required)")
	cmd.Flags().StringVar(&alg, "algorithm", "ecdsap256sha256", "signing algorithm: ecdsap256sha256 or ed25519")
	cmd.Flags().StringVar(&role, "role", "csk", "what the key signs: csk (everything), ksk (the DNSKEY RRset) or zsk (the rest)")
	return cmd
}

func newDNSSECDSCommand(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "ds ZONE",
		Short: "Print the DS records of ZONE's published key-signing keys in --dir",
		Args:  exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if dir == "" {
				return UsageErrorf("--dir is required: the key directory the DNS servers read")
			}
			keys, err := dnssec.LoadDir(dir)
			if err != nil {
				return err
			}
			zone := dns.CanonicalName(args[0])
			n := 0
			for _, k := range keys[zone] {
				if k.Role != dnssec.ZSK && k.Published(time.Now()) {
					fmt.Fprintln(g.stdout, k.DS())
					n++
				}
			}
			if n == 0 {
				return fmt.Errorf("zone %q: no published key-signing key in %s (anyctl dnssec keygen %s --dir %s)", zone, dir, args[0], dir)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "key directory (required)")
	return cmd
}
