// Package cookie makes and checks DNS server cookies (RFC 7873) in the
// interoperable format of RFC 9018, so that every server of an anycast
// address, sharing one secret, accepts the cookies of the others: version 1,
// three reserved bytes, a 32-bit timestamp and SipHash-2-4 of the client
// cookie, those eight bytes and the client's address.
package cookie

import (
	"encoding/binary"
	"net/netip"
)

// Secret is a 128-bit SipHash key.
type Secret [16]byte

// Verdict is what a query's server cookie is worth.
type Verdict int

const (
	// ClientOnly: the query had a client cookie and no server cookie.
	ClientOnly Verdict = iota
	// Valid: a server cookie this server (or one sharing its secret) made
	// for this client and address, no more than an hour old.
	Valid
	// Invalid: a server cookie of another length, version or hash, more
	// than an hour old or more than five minutes ahead (RFC 9018 section
	// 4.3).
	Invalid
)

// Lifetime bounds of a server cookie, in seconds (RFC 9018 section 4.3).
const (
	maxAge    = 3600
	maxFuture = 300
)

// Jar makes server cookies with its current secret and accepts those of
// the current and the previous one, for a rollover: every server first
// learns the new secret as the previous one, then makes it current.
type Jar struct {
	current  Secret
	previous []Secret // none, or one
}

// NewJar returns a jar making cookies with current and also accepting
// those made with previous.
func NewJar(current Secret, previous ...Secret) *Jar {
	return &Jar{current: current, previous: previous}
}

// Make returns a fresh 16-byte server cookie for client, the client cookie
// of a query from ip, at now (seconds since the epoch).
func (j *Jar) Make(client *[8]byte, ip netip.Addr, now uint32) [16]byte {
	var c [16]byte
	c[0] = 1
	binary.BigEndian.PutUint32(c[4:], now)
	binary.LittleEndian.PutUint64(c[8:], hash(&j.current, client, c[:8], ip))
	return c
}

// Check judges server, the server cookie of a query from ip with client
// cookie client, at now.
func (j *Jar) Check(client *[8]byte, server []byte, ip netip.Addr, now uint32) Verdict {
	switch {
	case len(server) == 0:
		return ClientOnly
	case len(server) != 16 || server[0] != 1:
		return Invalid
	}
	age := int32(now - binary.BigEndian.Uint32(server[4:]))
	if age > maxAge || age < -maxFuture {
		return Invalid
	}
	want := binary.LittleEndian.Uint64(server[8:])
	if hash(&j.current, client, server[:8], ip) == want {
		return Valid
	}
	for i := range j.previous {
		if hash(&j.previous[i], client, server[:8], ip) == want {
			return Valid
		}
	}
	return Invalid
}

// hash is the cookie's SipHash-2-4 of the client cookie, the version,
// reserved and timestamp bytes (head), and the client's address: 4 bytes
// for IPv4, 16 for IPv6.
func hash(k *Secret, client *[8]byte, head []byte, ip netip.Addr) uint64 {
	var m [32]byte
	copy(m[:8], client[:])
	copy(m[8:16], head)
	n := 16
	if ip.Is4() {
		a := ip.As4()
		n += copy(m[16:], a[:])
	} else {
		a := ip.As16()
		n += copy(m[16:], a[:])
	}
	return sipHash24(k, m[:n])
}
