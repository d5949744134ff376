package validation

import (
	"fmt"
	"strings"
	"unicode"
)

// checkObjectName enforces the metadata.name rule: a DNS label.
func checkObjectName(r report, name string) {
	if name == "" {
		r.add("metadata.name", "", "required")
		return
	}
	if labelOK(name) {
		return
	}
	msg := "must be a DNS label: lower-case letters, digits and '-', 1 to 63 characters, starting and ending with a letter or digit"
	if fix := suggestLabel(name); fix != "" {
		msg += fmt.Sprintf("; did you mean %q?", fix)
	}
	r.add("metadata.name", name, msg)
}

// labelOK reports whether s is lower-case letters, digits and '-', 1 to 63
// characters, starting and ending with a letter or digit.
func labelOK(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// suggestLabel returns s lower-cased with separators turned into '-', when
// that makes a valid label; "" otherwise.
func suggestLabel(s string) string {
	fix := strings.Map(func(r rune) rune {
		switch r {
		case '_', '.', ' ':
			return '-'
		}
		return r
	}, strings.ToLower(s))
	fix = strings.Trim(fix, "-")
	if fix == s || !labelOK(fix) {
		return ""
	}
	return fix
}

// domainProblem describes what is wrong with a domain name (with or without
// the trailing dot), "" when nothing is. Labels may hold letters, digits,
// '-' and '_' (for names such as "_acme-challenge").
func domainProblem(s string) string {
	name := strings.TrimSuffix(s, ".")
	if name == "" {
		return "not a domain name"
	}
	if len(name) > 253 {
		return "longer than 253 characters"
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return "empty label"
		}
		if len(label) > 63 {
			return fmt.Sprintf("label %q longer than 63 characters", label)
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			switch {
			case ok:
			case c == '*':
				return fmt.Sprintf("label %q holds '*': wildcard names are not served; name each host", label)
			case c > unicode.MaxASCII:
				return fmt.Sprintf(`label %q holds %q: write an internationalised name in its ASCII form (IDNA, such as "xn--bcher-kva" for "bücher")`, label, c)
			default:
				return fmt.Sprintf("label %q holds %q: use letters, digits, '-' and '_'", label, c)
			}
		}
	}
	return ""
}

// fqdn returns a domain name in canonical form: lower case, trailing dot.
// Zone apexes, which are always absolute, go through here, so
// "example.com" means "example.com.".
func fqdn(s string) string {
	s = strings.ToLower(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// zoneName resolves a name written in a zone's data (a record's owner, a
// name server, the SOA's names) the way DNS servers read it, as in a zone
// file: "@" is the apex (in canonical form), a name with a trailing dot is
// absolute, any other name is relative to the zone. A relative name that
// repeats the zone is refused: it is nearly always an absolute name
// missing its dot. It returns the canonical name, or a description of the
// problem.
func zoneName(name, apex string) (string, string) {
	if name == "@" {
		return apex, ""
	}
	if p := domainProblem(name); p != "" {
		return "", p
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".") {
		return lower, ""
	}
	bare := strings.TrimSuffix(apex, ".")
	if lower == bare || strings.HasSuffix(lower, "."+bare) {
		return "", fmt.Sprintf("relative name repeats the zone (it would mean %q); write %q with the trailing dot, or the name relative to the zone",
			lower+"."+apex, lower+".")
	}
	n := lower + "." + apex
	if len(n) > 254 {
		return "", fmt.Sprintf("longer than 253 characters in zone %q", apex)
	}
	return n, ""
}

// ownerName resolves a record's name in the zone with the given apex as
// zoneName does, and refuses an absolute name outside the zone.
func ownerName(name, apex string) (string, string) {
	n, problem := zoneName(name, apex)
	if problem == "" && !inZone(n, apex) {
		return "", fmt.Sprintf("outside zone %q", apex)
	}
	return n, problem
}

// inZone reports whether canonical name n is the apex or below it.
func inZone(n, apex string) bool {
	// n ends in "."+apex, without building that string.
	return n == apex || apex == "." || len(n) > len(apex) && n[len(n)-len(apex)-1] == '.' && strings.HasSuffix(n, apex)
}

// unknownMsg says s is an unknown what: with the upper-case form of s as the
// fix when valid accepts it, else with hint appended.
func unknownMsg(what, s, hint string, valid func(string) bool) string {
	if up := strings.ToUpper(s); up != s && valid(up) {
		return fmt.Sprintf("unknown %s; did you mean %q?", what, up)
	}
	return "unknown " + what + hint
}
