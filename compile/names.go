package compile

import "strings"

// fqdn returns a DNS name in lower case with a trailing dot. The empty name
// stays empty, so a missing name remains visible as missing.
func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// resolveName makes a name written inside a zone absolute, lower case, with
// a trailing dot. "" and "@" are the apex itself. A name ending in a dot is
// absolute already; so is one that ends with the apex without its trailing
// dot ("www.gslb.example.com" in "gslb.example.com."). Any other name is
// relative to the apex ("www" → "www.gslb.example.com."). With no apex
// (apex ""), every name is taken as absolute.
func resolveName(name, apex string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	apex = fqdn(apex)
	bare := strings.TrimSuffix(apex, ".")
	switch {
	case name == "" || name == "@":
		return apex
	case strings.HasSuffix(name, "."):
		return name
	case apex == "" || apex == "." || name == bare || strings.HasSuffix(name, "."+bare):
		return name + "."
	}
	return name + "." + apex
}
