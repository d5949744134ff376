package dnsgslb

import (
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// chaos answers the CHAOS-class TXT names that say which server answered:
// id.server. and hostname.bind. (RFC 4892) with the server's identity, and
// version.bind. when a version is configured. Other CHAOS names are
// refused.
type chaos struct {
	// txt maps a lower-case wire name to its TXT RDATA, one
	// character-string.
	txt map[string][]byte
}

// maxIdentity bounds Config.Identity and Config.VersionBind: one
// character-string, and room in a 512-byte reply for the NSID beside the
// longest question, the ECS option and a cookie.
const maxIdentity = 128

func newChaos(identity, version string) *chaos {
	c := &chaos{txt: map[string][]byte{}}
	add := func(name, text string) {
		var w [255]byte
		n, _ := dns.PackDomainName(name, w[:], 0, nil, false)
		c.txt[string(w[:n])] = append([]byte{byte(len(text))}, text...)
	}
	if identity != "" {
		add("id.server.", identity)
		add("hostname.bind.", identity)
	}
	if version != "" {
		add("version.bind.", version)
	}
	if len(c.txt) == 0 {
		return nil
	}
	return c
}

// reply writes the answer to q, a CHAOS query, into dst: the TXT record
// for TXT and ANY, no record for other types. It returns nil for a name it
// does not answer.
func (c *chaos) reply(dst []byte, q *wire.Query) []byte {
	var lc [255]byte
	name := q.QName()
	for i, b := range name {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		lc[i] = b
	}
	txt, ok := c.txt[string(lc[:len(name)])]
	if !ok {
		return nil
	}
	var an uint16
	if q.Qtype == dns.TypeTXT || q.Qtype == dns.TypeANY {
		an = 1
	}
	var ar uint16
	if q.EDNS {
		ar = 1
	}
	b := dst[:12]
	wire.PutHeader(b, q, true, wire.RcodeSuccess, 1, an, 0, ar)
	b = wire.AppendQuestion(b, q)
	if an == 1 {
		b = append(b, 0xC0, 12, 0, byte(dns.TypeTXT), 0, byte(dns.ClassCHAOS), 0, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(len(txt)))
		b = append(b, txt...)
	}
	if q.EDNS {
		b = wire.AppendOPT(b, q, wire.RcodeSuccess, 0)
	}
	return b
}
