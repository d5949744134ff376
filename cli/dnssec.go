package cli

import (
	"fmt"
	"maps"
	"slices"
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
	cmd.AddCommand(newDNSSECKeygenCommand(g), newDNSSECDSCommand(g), newDNSSECSettimeCommand(g), newDNSSECListCommand(g),
		newDNSSECRolloverCommand(g), newDNSSECCheckDSCommand(g))
	return cmd
}

func newDNSSECKeygenCommand(g *globals) *cobra.Command {
	var dir, alg, role, publish, activate string
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
			now := time.Now()
			pub, err := dnssec.ParseTime(publish, now)
			if err != nil {
				return UsageErrorf("--publish %w", err)
			}
			act, err := dnssec.ParseTime(activate, now)
			if err != nil {
				return UsageErrorf("--activate %w", err)
			}
			if act.Before(pub) {
				return UsageErrorf("--activate %s is before --publish %s: a key signs only once published", activate, publish)
			}
			k, err := dnssec.Generate(dir, args[0], a, r, now)
			if err != nil {
				return err
			}
			if !pub.Equal(k.Publish) || !act.Equal(k.Activate) {
				t := k.Timing
				t.Publish, t.Activate = pub, act
				if err := k.SetTiming(t); err != nil {
					return err
				}
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
	cmd.Flags().StringVar(&publish, "publish", "now", "when the key enters the DNSKEY RRset: now, +DURATION (e.g. +2h, +7d), RFC 3339 or YYYYMMDDHHMMSS")
	cmd.Flags().StringVar(&activate, "activate", "now", "when the key starts signing (same forms as --publish)")
	return cmd
}

func newDNSSECDSCommand(g *globals) *cobra.Command {
	var dir string
	var parents []string
	cmd := &cobra.Command{
		Use:   "ds ZONE",
		Short: "Print the DS records the parent of ZONE should hold now, and those to remove",
		Long: `Print the DS records the parent zone should hold now (those of ZONE's
published key-signing keys, and of a rollover's new key), one a line; then,
as comments, the DS records to remove from the parent and when a rollover
changes the set next (anyctl dnssec rollover).

--parent asks an authoritative server of the parent zone (host or
host:port; repeat it for each of the parent's servers) for ZONE's DS
RRset, without validating its reply, and says as comments what differs:
a DS still served that should have left (a revoked key's, which matches
no DNSKEY served, or an old key's), one the parent lacks, one that is no
key's in --dir; and when no DS served is that of a key signing the
DNSKEY RRset, that validating resolvers fail the zone. It exits 1 when
the parent's DS RRset is not the one to hold.`,
		Example: `  anyctl dnssec ds gslb.example.com --dir /etc/anyctl/dnssec --parent ns1.example.com --parent ns2.example.com`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := loadKeyDir(dir)
			if err != nil {
				return err
			}
			zone, now := dns.CanonicalName(args[0]), time.Now()
			if n := dsReport(g.stdout, keys[zone], now); n == 0 {
				return fmt.Errorf("zone %q: no published key-signing key in %s (anyctl dnssec keygen %s --dir %s)", zone, dir, args[0], dir)
			}
			return parentDSReport(cmd.Context(), g.stdout, parents, zone, dir, keys[zone], now)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "key directory (required)")
	cmd.Flags().StringArrayVar(&parents, "parent", nil, "an authoritative server of the parent zone to compare its DS RRset with (host or host:port; repeatable)")
	return cmd
}

func newDNSSECSettimeCommand(g *globals) *cobra.Command {
	var publish, activate, revoke, inactive, del string
	cmd := &cobra.Command{
		Use:   "settime KEYFILE",
		Short: "Change when a key is published, signs, is revoked, stops signing and is removed",
		Long: `Change a key's timing (KEYFILE is its .key or .private file, or the path
without either). Each time is now, none (never: a key without an activation time does not sign),
+DURATION or -DURATION from now (e.g. +2h, +7d), RFC 3339 or YYYYMMDDHHMMSS.
DNS servers read the key directory again every minute, and at once on SIGHUP.

--revoke revokes the key (RFC 5011, for resolvers that hold it as a trust
anchor, as BIND's dnssec-settime -R does): from then, while published, it
is served with the REVOKE flag (flags 385 for a KSK or CSK, and so another
key tag), signs the DNSKEY RRset, so that those resolvers accept the
revocation, and nothing else; its DS should leave the parent (anyctl dnssec
ds). Another key of its algorithm must sign the zone by then. Keep it
published (--delete) for the resolvers' hold-down, 30 days by RFC 5011, and
at least the DNSKEY TTL.`,
		Example: `  # Retire a key by hand (anyctl dnssec rollover times a whole rollover).
  anyctl dnssec settime /etc/anyctl/dnssec/Kgslb.example.com.+013+01234 --inactive +2h --delete +4h
  # Revoke a trust-anchor key once its successor signs, and remove it after the hold-down.
  anyctl dnssec settime /etc/anyctl/dnssec/Kgslb.example.com.+013+01234 --revoke now --delete +31d`,
		Args: exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			k, err := dnssec.Load(args[0])
			if err != nil {
				return err
			}
			now, t := time.Now(), k.Timing
			for _, f := range []struct {
				flag, value string
				dst         *time.Time
			}{{"--publish", publish, &t.Publish}, {"--activate", activate, &t.Activate}, {"--revoke", revoke, &t.Revoke}, {"--inactive", inactive, &t.Inactive}, {"--delete", del, &t.Delete}} {
				if f.value == "" {
					continue
				}
				v, err := dnssec.ParseTime(f.value, now)
				if err != nil {
					return UsageErrorf("%s %w", f.flag, err)
				}
				*f.dst = v
			}
			if !t.Delete.IsZero() && !t.Inactive.IsZero() && t.Delete.Before(t.Inactive) {
				return UsageErrorf("--delete %s is before --inactive %s: a key is removed only once it no longer signs", t.Delete.Format(time.RFC3339), t.Inactive.Format(time.RFC3339))
			}
			if !t.Delete.IsZero() && !t.Revoke.IsZero() && !t.Revoke.Before(t.Delete) {
				return UsageErrorf("--revoke %s is not before --delete %s: resolvers see a revocation only while the key is published (RFC 5011: keep it for their 30-day hold-down)", t.Revoke.Format(time.RFC3339), t.Delete.Format(time.RFC3339))
			}
			if revoke != "" && !t.Revoke.IsZero() && k.Role == dnssec.ZSK {
				fmt.Fprintf(g.stderr, "anyctl: warning: key %d is a ZSK: RFC 5011 revokes trust anchors, KSKs and CSKs; revoked, it signs only the DNSKEY RRset\n", k.Tag())
			}
			if err := k.SetTiming(t); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, describeKey(k, now))
			return nil
		},
	}
	cmd.Flags().StringVar(&publish, "publish", "", "when the key enters the DNSKEY RRset")
	cmd.Flags().StringVar(&activate, "activate", "", "when the key starts signing")
	cmd.Flags().StringVar(&revoke, "revoke", "", "when the key is revoked (RFC 5011): served with the REVOKE flag, signing the DNSKEY RRset only")
	cmd.Flags().StringVar(&inactive, "inactive", "", "when the key stops signing (it stays published)")
	cmd.Flags().StringVar(&del, "delete", "", "when the key leaves the DNSKEY RRset")
	return cmd
}

func newDNSSECListCommand(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the keys in --dir with their state and timing",
		Args:  exactArgs(0),
		RunE: func(_ *cobra.Command, _ []string) error {
			keys, err := loadKeyDir(dir)
			if err != nil {
				return err
			}
			now := time.Now()
			for _, zone := range slices.Sorted(maps.Keys(keys)) {
				for _, k := range keys[zone] {
					fmt.Fprintln(g.stdout, describeKey(k, now))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "key directory (required)")
	return cmd
}

// describeKey is one line about a key: what it is, its state now and its
// timing.
func describeKey(k *dnssec.Key, now time.Time) string {
	state := "not published"
	switch {
	case k.Published(now) && k.Revoked(now):
		served := k.DNSKEYAt(now)
		state = fmt.Sprintf("revoked (served as key %d, flags %d; signs the DNSKEY RRset only)", served.KeyTag(), served.Flags)
	case k.Active(now):
		state = "signing"
	case k.Published(now):
		state = "published, not signing"
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	ds := ""
	if !k.SyncPublish.IsZero() || !k.SyncDelete.IsZero() {
		ds = fmt.Sprintf("; DS at the parent from %s until %s", at(k.SyncPublish), at(k.SyncDelete))
	}
	revoke := ""
	if !k.Revoke.IsZero() {
		revoke = " revoke " + at(k.Revoke)
	}
	return fmt.Sprintf("%s: %s; publish %s activate %s%s inactive %s delete %s%s (%s)",
		k, state, at(k.Publish), at(k.Activate), revoke, at(k.Inactive), at(k.Delete), ds, k.File)
}

// loadKeyDir reads the keys in the key directory --dir names, by zone; an
// unset --dir is a usage error.
func loadKeyDir(dir string) (map[string][]*dnssec.Key, error) {
	if dir == "" {
		return nil, UsageErrorf("--dir is required: the key directory the DNS servers read (anyctl dns --dnssec-keys)")
	}
	return dnssec.LoadDir(dir)
}
