package dnssec

import (
	"bufio"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Role is what a key signs.
type Role int

const (
	// CSK signs everything (a combined signing key): the default, one
	// key and one DS.
	CSK Role = iota
	// KSK signs the DNSKEY RRset; its DS is in the parent.
	KSK
	// ZSK signs every other RRset.
	ZSK
)

func (r Role) String() string {
	switch r {
	case KSK:
		return "ksk"
	case ZSK:
		return "zsk"
	}
	return "csk"
}

// ParseRole reads a role as written on the command line.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(s) {
	case "csk", "":
		return CSK, nil
	case "ksk":
		return KSK, nil
	case "zsk":
		return ZSK, nil
	}
	return 0, fmt.Errorf("role %q: want csk, ksk or zsk", s)
}

// Algorithms are the signing algorithms supported, by name.
var Algorithms = map[string]uint8{
	"ecdsap256sha256": dns.ECDSAP256SHA256,
	"ed25519":         dns.ED25519,
}

// ParseAlgorithm reads an algorithm by name (ecdsap256sha256, ed25519) or
// number (13, 15).
func ParseAlgorithm(s string) (uint8, error) {
	if a, ok := Algorithms[strings.ToLower(s)]; ok {
		return a, nil
	}
	for _, a := range Algorithms {
		if s == fmt.Sprint(a) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("algorithm %q: want ecdsap256sha256 (13) or ed25519 (15)", s)
}

// Timing is when a key enters and leaves the zone, as BIND's key files
// say: published (in the DNSKEY RRset) from Publish until Delete, signing
// from Activate until Inactive. A zero time is "never", as in BIND: a key
// without Activate does not sign, one without Publish is published from
// Activate; a key with no timing at all, not even Created (an old file),
// is published and signs. Revoke is when the key is revoked (RFC 5011):
// from then, while published, it is published with the REVOKE flag and
// signs the DNSKEY RRset only (see Revoked). SyncPublish and SyncDelete
// are when its DS may be added to the parent zone and when it must be
// removed from it (a KSK or CSK rollover; see Rollover).
type Timing struct {
	Created, Publish, Activate, Revoke, Inactive, Delete time.Time
	SyncPublish, SyncDelete                              time.Time
}

// untimed says whether the timing sets nothing, not even a creation time:
// a key from before timing (BIND writes Created in every file since, and
// a file with nothing else is a key to publish and activate never).
func (t Timing) untimed() bool {
	return t.Created.IsZero() && t.Publish.IsZero() && t.Activate.IsZero() && t.Inactive.IsZero() && t.Delete.IsZero()
}

// Key is one of a zone's keys.
type Key struct {
	Zone   string
	DNSKEY *dns.DNSKEY
	Signer crypto.Signer
	Role   Role
	Timing
	// File is the key's path without .key or .private.
	File string
	// roleStated: a file said the role (our role line), rather than the
	// DNSKEY flags alone.
	roleStated bool
}

// Tag is the key's key tag as its file has it, the one in the file's
// name: that of the key as published before it is revoked, unless the
// file holds the revoked key (BIND's dnssec-revoke). TagAt is the tag
// served.
func (k *Key) Tag() uint16 { return k.DNSKEY.KeyTag() }

// Revoked says whether the key is revoked at t (RFC 5011): its file holds
// the DNSKEY with the REVOKE flag, or its Revoke time has come. A revoked
// key, while published, is published with the REVOKE flag and signs the
// DNSKEY RRset that holds it, so that resolvers holding it as a trust
// anchor see the revocation, and nothing else; it never counts as a key
// that keeps the zone signed.
func (k *Key) Revoked(t time.Time) bool {
	return k.DNSKEY.Flags&dns.REVOKE != 0 || (!k.Revoke.IsZero() && !t.Before(k.Revoke))
}

// DNSKEYAt is the key's DNSKEY as published at t: with the REVOKE flag
// once it is revoked.
func (k *Key) DNSKEYAt(t time.Time) *dns.DNSKEY {
	if !k.Revoked(t) || k.DNSKEY.Flags&dns.REVOKE != 0 {
		return k.DNSKEY
	}
	c := *k.DNSKEY
	c.Flags |= dns.REVOKE
	return &c
}

// TagAt is the key tag of the key's DNSKEY as published at t: the tag
// changes when the key is revoked (the flags are part of it).
func (k *Key) TagAt(t time.Time) uint16 { return k.DNSKEYAt(t).KeyTag() }

// Published says whether the key is in the DNSKEY RRset at t.
func (k *Key) Published(t time.Time) bool {
	from := k.Publish
	if from.IsZero() {
		from = k.Activate
	}
	if from.IsZero() && !k.untimed() {
		return false
	}
	return !t.Before(from) && (k.Delete.IsZero() || t.Before(k.Delete))
}

// Active says whether the key signs the zone at t: published, activated,
// not inactive and not revoked (a revoked key signs only the DNSKEY
// RRset, see Revoked).
func (k *Key) Active(t time.Time) bool {
	if k.Activate.IsZero() && !k.untimed() {
		return false
	}
	return k.Published(t) && !t.Before(k.Activate) && (k.Inactive.IsZero() || t.Before(k.Inactive)) && !k.Revoked(t)
}

// NextEvent is the first time after now at which the key is published,
// starts or stops signing, is revoked or is removed; zero when it has
// none left.
func (k *Key) NextEvent(now time.Time) time.Time {
	var next time.Time
	for _, t := range []time.Time{k.Publish, k.Activate, k.Revoke, k.Inactive, k.Delete} {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

// DS is the key's DS record (SHA-256), to give the parent zone: that of
// the key without the REVOKE flag, the one a parent can have been given
// (a revoked key's DS matches no DNSKEY served, and should leave the
// parent: see DSStateAt).
func (k *Key) DS() *dns.DS {
	c := *k.DNSKEY
	c.Flags &^= dns.REVOKE
	return c.ToDS(dns.SHA256)
}

func (k *Key) String() string {
	return fmt.Sprintf("%s %s %s key %d", k.Zone, k.Role, dns.AlgorithmToString[k.DNSKEY.Algorithm], k.Tag())
}

// timeLayout is the format of BIND's key timing metadata.
const timeLayout = "20060102150405"

// Generate makes a key for zone, writes it to dir as BIND key files
// (K<zone>+<alg>+<tag>.key and .private, the private file mode 0600), and
// returns it. It is published and active from now.
func Generate(dir, zone string, alg uint8, role Role, now time.Time) (*Key, error) {
	zone = dns.CanonicalName(zone)
	if _, ok := dns.IsDomainName(zone); !ok {
		return nil, fmt.Errorf("zone %q: not a domain name", zone)
	}
	flags := uint16(dns.ZONE)
	if role != ZSK {
		flags |= dns.SEP
	}
	pub := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	used, err := usedTags(dir, zone)
	if err != nil {
		return nil, err
	}
	// A tag another key of the zone has would name its files: generate
	// again, as dnssec-keygen does. So would the tag the key takes once
	// revoked (dnssec-revoke writes the revoked key under it), or
	// another key's once revoked: the REVOKE flag adds 128 to the sum a
	// key tag folds, so that tag is the key's plus 128, or 129 when the
	// sum carries (both kept free).
	var priv crypto.PrivateKey
	for priv == nil || used[pub.KeyTag()] || used[pub.KeyTag()-128] || used[pub.KeyTag()-129] || used[revokedTag(pub)] {
		if priv, err = pub.Generate(256); err != nil {
			return nil, fmt.Errorf("zone %q: generate %s key: %w", zone, dns.AlgorithmToString[alg], err)
		}
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("zone %q: %s key cannot sign", zone, dns.AlgorithmToString[alg])
	}
	now = now.UTC().Truncate(time.Second)
	k := &Key{Zone: zone, DNSKEY: pub, Signer: signer, Role: role, Timing: Timing{Created: now, Publish: now, Activate: now}}
	k.File = filepath.Join(dir, fmt.Sprintf("K%s+%03d+%05d", zone, alg, k.Tag()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory %q: %w", dir, err)
	}
	if err := k.write(); err != nil {
		return nil, err
	}
	return k, nil
}

// revokedTag is the key tag of k with the REVOKE flag.
func revokedTag(k *dns.DNSKEY) uint16 {
	c := *k
	c.Flags |= dns.REVOKE
	return c.KeyTag()
}

// usedTags are the key tags of zone's key files in dir, of any algorithm.
func usedTags(dir, zone string) (map[uint16]bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key directory %q: %w", dir, err)
	}
	used := map[uint16]bool{}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(strings.ToLower(e.Name()), "k"+zone+"+")
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(strings.TrimSuffix(rest, ".key"), ".private")
		var alg, tag uint16
		if n, _ := fmt.Sscanf(rest, "%03d+%05d", &alg, &tag); n == 2 {
			used[tag] = true
		}
	}
	return used, nil
}

// write writes the key's two files: the public key with its role as a
// comment, the private key with its timing metadata. The private file
// holds only what BIND reads (its tools refuse a line they do not know);
// the role, which BIND's tools drop when they write the public file
// again, is read from the DNSKEY flags then (a key with the SEP flag is a
// CSK).
func (k *Key) write() error {
	pubText := fmt.Sprintf("; This is a %s key, keyid %d, for %s\n; Role: %s\n%s\n", roleWord(k.Role), k.Tag(), k.Zone, k.Role, k.DNSKEY.String())
	var sb strings.Builder
	sb.WriteString(k.DNSKEY.PrivateKeyString(k.Signer))
	if !strings.HasSuffix(sb.String(), "\n") {
		sb.WriteByte('\n')
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"Created", k.Created}, {"Publish", k.Publish}, {"Activate", k.Activate}, {"Revoke", k.Revoke}, {"Inactive", k.Inactive}, {"Delete", k.Delete}, {"SyncPublish", k.SyncPublish}, {"SyncDelete", k.SyncDelete}} {
		if !f.t.IsZero() {
			fmt.Fprintf(&sb, "%s: %s\n", f.name, f.t.UTC().Format(timeLayout))
		}
	}
	if err := writeFile(k.File+".private", []byte(sb.String()), 0o600); err != nil {
		return err
	}
	return writeFile(k.File+".key", []byte(pubText), 0o644)
}

func roleWord(r Role) string {
	switch r {
	case KSK:
		return "key-signing"
	case ZSK:
		return "zone-signing"
	}
	return "combined signing"
}

// SetTiming changes when the key is published and signs, and writes its
// private file again.
func (k *Key) SetTiming(t Timing) error {
	k.Timing = t
	return k.write()
}

func writeFile(path string, data []byte, mode fs.FileMode) error {
	tmp := path + ".tmp"
	// A file left there (a crash) keeps its mode through WriteFile:
	// remove it, so that a private key never lands in a file others can
	// read.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("key file %q: %w", path, err)
	}
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("key file %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("key file %q: %w", path, err)
	}
	return nil
}

// LoadDir reads every key pair (K*.key with its .private) in dir, by zone
// (canonical names). A file it cannot use is an error naming the file and
// what is wrong, a private file without its .key too; a private file
// readable by others is refused.
func LoadDir(dir string) (map[string][]*Key, error) {
	pubs, err := filepath.Glob(filepath.Join(dir, "K*.key"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("key directory %q: %w", dir, err)
	}
	privs, err := filepath.Glob(filepath.Join(dir, "K*.private"))
	if err != nil {
		return nil, err
	}
	for _, p := range privs {
		if pub := strings.TrimSuffix(p, ".private") + ".key"; !slices.Contains(pubs, pub) {
			return nil, fmt.Errorf("key file %q: no %s beside it: copy it too, or remove the private file", p, filepath.Base(pub))
		}
	}
	slices.Sort(pubs)
	out := map[string][]*Key{}
	for _, p := range pubs {
		k, err := loadKey(strings.TrimSuffix(p, ".key"))
		if err != nil {
			return nil, err
		}
		out[k.Zone] = append(out[k.Zone], k)
	}
	for zone, keys := range out {
		out[zone] = supersedeRevoked(keys)
		revokedRoles(out[zone])
	}
	return out, nil
}

// revokedRoles gives a revoked key with the SEP flag whose role no file
// says (BIND's dnssec-revoke -r writes it without our role line and
// removes the file that had it) the role the zone's other keys imply: a
// KSK when a ZSK of its algorithm is there, a CSK otherwise. A revoked
// key signs only the DNSKEY RRset whatever its role; the role is what
// dnssec list, settime and rollover say and count it as. Keys not
// revoked keep the CSK a SEP key without a role line is read as: it
// signs the zone's data when no ZSK of its algorithm does, as BIND's KSKs
// do.
func revokedRoles(keys []*Key) {
	for _, r := range keys {
		if r.roleStated || r.DNSKEY.Flags&dns.REVOKE == 0 || r.DNSKEY.Flags&dns.SEP == 0 {
			continue
		}
		r.Role = CSK
		if slices.ContainsFunc(keys, func(k *Key) bool { return k.Role == ZSK && k.DNSKEY.Algorithm == r.DNSKEY.Algorithm }) {
			r.Role = KSK
		}
	}
}

// supersedeRevoked drops from a zone's keys each key whose revoked form
// is there too: BIND's dnssec-revoke writes the revoked key (the REVOKE
// flag set, so another tag) in new files and leaves the old ones unless
// told to remove them. The revoked file stands for the key, as in BIND,
// with the role the old file gave it.
func supersedeRevoked(keys []*Key) []*Key {
	superseded := map[*Key]bool{}
	for _, r := range keys {
		if r.DNSKEY.Flags&dns.REVOKE == 0 {
			continue
		}
		for _, k := range keys {
			if k.DNSKEY.Flags|dns.REVOKE == r.DNSKEY.Flags && k != r && k.DNSKEY.Algorithm == r.DNSKEY.Algorithm &&
				k.DNSKEY.Protocol == r.DNSKEY.Protocol && k.DNSKEY.PublicKey == r.DNSKEY.PublicKey {
				superseded[k] = true
				r.Role, r.roleStated = k.Role, k.roleStated
			}
		}
	}
	return slices.DeleteFunc(keys, func(k *Key) bool { return superseded[k] })
}

func loadKey(file string) (*Key, error) {
	pubText, err := os.ReadFile(file + ".key")
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", file+".key", err)
	}
	rr, err := dns.ReadRR(strings.NewReader(string(pubText)), file+".key")
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", file+".key", err)
	}
	pub, ok := rr.(*dns.DNSKEY)
	if !ok {
		return nil, fmt.Errorf("key file %q: holds a %s record, not a DNSKEY", file+".key", dns.TypeToString[rr.Header().Rrtype])
	}
	if _, ok := Algorithms[strings.ToLower(dns.AlgorithmToString[pub.Algorithm])]; !ok {
		return nil, fmt.Errorf("key file %q: algorithm %d (%s) is not supported: use ECDSAP256SHA256 or ED25519", file+".key", pub.Algorithm, dns.AlgorithmToString[pub.Algorithm])
	}
	st, err := os.Stat(file + ".private")
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", file+".private", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %q: mode %v lets others read the private key: chmod 600 it", file+".private", st.Mode().Perm())
	}
	privText, err := os.ReadFile(file + ".private")
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", file+".private", err)
	}
	priv, err := pub.NewPrivateKey(string(privText))
	if err != nil {
		return nil, fmt.Errorf("key file %q: %w", file+".private", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key file %q: the key cannot sign", file+".private")
	}
	k := &Key{Zone: dns.CanonicalName(pub.Hdr.Name), DNSKEY: pub, Signer: signer, File: file, Role: CSK}
	if pub.Flags&dns.SEP == 0 {
		k.Role = ZSK
	}
	if err := k.readMeta(string(privText)); err != nil {
		return nil, fmt.Errorf("key file %q: %w", file+".private", err)
	}
	for _, line := range strings.Split(string(pubText), "\n") {
		if role, ok := strings.CutPrefix(line, "; Role:"); ok {
			if err := k.setRole(strings.TrimSpace(role)); err != nil {
				return nil, fmt.Errorf("key file %q: %w", file+".key", err)
			}
		}
	}
	return k, nil
}

// setRole sets the key's role as its file says, if the DNSKEY flags allow
// it.
func (k *Key) setRole(s string) error {
	r, err := ParseRole(s)
	if err != nil {
		return err
	}
	if (r == ZSK) != (k.DNSKEY.Flags&dns.SEP == 0) {
		return fmt.Errorf("role %s does not match the DNSKEY flags %d", r, k.DNSKEY.Flags)
	}
	k.Role, k.roleStated = r, true
	return nil
}

// readMeta reads the timing lines of a private key file, and the role
// line that files written before the role moved to the public file hold.
func (k *Key) readMeta(text string) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		var dst *time.Time
		switch name {
		case "Created":
			dst = &k.Created
		case "Publish":
			dst = &k.Publish
		case "Activate":
			dst = &k.Activate
		case "Revoke":
			dst = &k.Revoke
		case "Inactive":
			dst = &k.Inactive
		case "Delete":
			dst = &k.Delete
		case "SyncPublish":
			dst = &k.SyncPublish
		case "SyncDelete":
			dst = &k.SyncDelete
		case "Role":
			if err := k.setRole(value); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		t, err := time.Parse(timeLayout, value)
		if err != nil {
			return fmt.Errorf("%s %q: want YYYYMMDDHHMMSS", name, value)
		}
		*dst = t
	}
	return nil
}

// ErrNoKeys is returned when a zone to be signed has no key that signs.
var ErrNoKeys = errors.New("no active key")

// Load reads one key pair; file is its path with or without .key or
// .private. A revoked key whose file does not say its role (BIND's
// dnssec-revoke wrote it) takes it from the other keys of its zone in its
// directory, as LoadDir reads them; written again (SetTiming), its file
// then says it.
func Load(file string) (*Key, error) {
	file = filepath.Clean(strings.TrimSuffix(strings.TrimSuffix(file, ".key"), ".private"))
	k, err := loadKey(file)
	if err != nil || k.roleStated || k.DNSKEY.Flags&dns.REVOKE == 0 {
		return k, err
	}
	keys, err := LoadDir(filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("key file %q: revoked, its role is read from the other keys of %s: %w", file+".key", k.Zone, err)
	}
	for _, o := range keys[k.Zone] {
		if o.File == file {
			return o, nil
		}
	}
	return k, nil
}

// ParseTime reads a key timing value: "now", "+DURATION" or "-DURATION"
// from now (Go durations, and "d" for days), "none" (the zero time:
// never), RFC 3339 or YYYYMMDDHHMMSS (UTC).
func ParseTime(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "now":
		return now.UTC().Truncate(time.Second), nil
	case s == "none":
		return time.Time{}, nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		d, err := parseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: %w", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(timeLayout, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want now, none, +DURATION (e.g. +2h, +7d), RFC 3339 or YYYYMMDDHHMMSS", s)
}

func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := time.ParseDuration(days + "h")
		return 24 * n, err
	}
	return time.ParseDuration(s)
}
