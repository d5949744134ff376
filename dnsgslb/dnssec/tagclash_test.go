package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// TestGenerateKeepsKeysOfTheSameTag generates keys for one zone until two
// key tags are the same (a thousand keys of 16-bit tags: all but sure):
// each key must keep its own files, as BIND's dnssec-keygen does, not
// write over those of the key with its tag. Overwritten, a zone's
// current key is lost when its successor is made (anyctl dnssec
// rollover): its DS at the parent matches nothing any more.
func TestGenerateKeepsKeysOfTheSameTag(t *testing.T) {
	dir := t.TempDir()
	seen := map[uint16]bool{}
	clashes := 0
	const n = 1000
	for range n {
		k, err := Generate(dir, "example.com.", dns.ED25519, ZSK, now)
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.Tag()] {
			clashes++
		}
		seen[k.Tag()] = true
	}
	keys, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(keys["example.com."]); got != n {
		t.Errorf("%d keys generated, %d in the directory (%d with a tag already taken)", n, got, clashes)
	}
	if clashes != 0 {
		t.Errorf("%d keys got a tag already taken in the zone", clashes)
	}
}

// TestGenerateAvoidsRevokedTags: a key's tag changes when it is revoked
// (RFC 5011), and BIND's dnssec-revoke writes the revoked key under its
// new tag: a key generated with the tag another key takes once revoked
// (or whose revoked tag another key has) would share its files, as
// dnssec-keygen avoids too.
func TestGenerateAvoidsRevokedTags(t *testing.T) {
	dir := t.TempDir()
	tags := map[uint16]bool{}
	var revoked []uint16
	const n = 1000
	for range n {
		k, err := Generate(dir, "example.com.", dns.ED25519, CSK, now)
		if err != nil {
			t.Fatal(err)
		}
		tags[k.Tag()] = true
		revoked = append(revoked, revokedForm(k).KeyTag())
	}
	clashes := 0
	for _, r := range revoked {
		if tags[r] {
			clashes++
		}
	}
	if clashes != 0 {
		t.Errorf("%d of %d keys have, once revoked, the tag of another key of the zone", clashes, n)
	}
}
