package index

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// canonical returns a name as a lower-case fully qualified domain name, or
// an error when it is not a domain name.
func canonical(name string) (string, error) {
	n := strings.ToLower(dns.Fqdn(name))
	if _, ok := dns.IsDomainName(n); !ok {
		return "", fmt.Errorf("%q is not a domain name", name)
	}
	return n, nil
}

// inZone resolves a record name against a zone apex: "" and "@" are the
// apex, a name ending in "." is absolute and must be inside the zone, any
// other name is relative to the apex.
func inZone(name, apex string) (string, error) {
	switch {
	case name == "" || name == "@":
		return apex, nil
	case strings.HasSuffix(name, "."):
		n, err := canonical(name)
		if err != nil {
			return "", err
		}
		if !dns.IsSubDomain(apex, n) {
			return "", fmt.Errorf("%q is outside zone %q", name, apex)
		}
		return n, nil
	}
	return canonical(name + "." + apex)
}

// wireKey is a canonical name in wire format, as a map key.
func wireKey(name string) string {
	var b [256]byte
	n, err := dns.PackDomainName(name, b[:], 0, nil, false)
	if err != nil {
		return ""
	}
	return string(b[:n])
}

// lowerWire copies a wire-format name into dst in lower case.
func lowerWire(dst *[255]byte, name []byte) []byte { return wire.Lower(dst[:], name) }

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}
