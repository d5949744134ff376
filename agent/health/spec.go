package health

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Protocols a Spec can name.
const (
	ProtocolHTTP  = "http"
	ProtocolHTTPS = "https"
	ProtocolTCP   = "tcp"
	ProtocolDNS   = "dns"
)

// Defaults for the zero values of a Spec.
const (
	DefaultInterval       = time.Second
	DefaultMaxTimeout     = time.Second // the timeout defaults to min(Interval, this)
	DefaultRise           = 2
	DefaultFall           = 2
	DefaultExpectedStatus = 200
	DefaultPath           = "/"
)

// Spec is one health check, in domain types. Zero fields take the defaults
// above; FromProto builds one from the wire form.
type Spec struct {
	// Protocol is "http", "https", "tcp" or "dns".
	Protocol string
	// Target is the host:port probed.
	Target string

	// Path and Host are the request path and Host header (and TLS server
	// name) of http and https checks.
	Path, Host string
	// ExpectedStatus is the status an http(s) check wants; redirects are not
	// followed, so a 301 is seen as 301.
	ExpectedStatus int
	// ExpectBody is a substring the response body must contain.
	ExpectBody         string
	InsecureSkipVerify bool

	// DNSName, DNSType and DNSRcode are the question of a dns check and the
	// response code it wants.
	DNSName  string
	DNSType  uint16
	DNSRcode int

	// Interval is the time between probe starts. Timeout bounds one probe.
	Interval, Timeout time.Duration
	// FastInterval, when shorter than Interval, is the time between probes
	// while a result disagrees with the state, so that a fall (or rise) of
	// more than one is confirmed sooner. Zero means Interval.
	FastInterval time.Duration
	// Rise consecutive successes make a down target up; Fall consecutive
	// failures make an up target down.
	Rise, Fall int

	// DisableConnWatch turns off the idle connection that tcp and http(s)
	// checks keep open to notice a dead service between probes.
	DisableConnWatch bool
}

// withDefaults fills the zero fields.
func (s Spec) withDefaults() Spec {
	if s.Interval == 0 {
		s.Interval = DefaultInterval
	}
	if s.Timeout == 0 {
		s.Timeout = min(s.Interval, DefaultMaxTimeout)
	}
	if s.Rise == 0 {
		s.Rise = DefaultRise
	}
	if s.Fall == 0 {
		s.Fall = DefaultFall
	}
	switch s.Protocol {
	case ProtocolHTTP, ProtocolHTTPS:
		if s.ExpectedStatus == 0 {
			s.ExpectedStatus = DefaultExpectedStatus
		}
		if s.Path == "" {
			s.Path = DefaultPath
		}
	case ProtocolDNS:
		if s.DNSType == 0 {
			s.DNSType = dns.TypeA
		}
		if s.DNSName != "" {
			s.DNSName = dns.Fqdn(s.DNSName)
		}
	}
	return s
}

// validate checks a Spec that has had its defaults filled.
func (s Spec) validate() error {
	switch s.Protocol {
	case ProtocolHTTP, ProtocolHTTPS, ProtocolTCP, ProtocolDNS:
	default:
		return fmt.Errorf("protocol %q: want one of http, https, tcp, dns", s.Protocol)
	}
	if _, port, err := net.SplitHostPort(s.Target); err != nil || port == "" {
		return fmt.Errorf("target %q: want host:port", s.Target)
	}
	if s.Interval < 0 || s.Timeout < 0 || s.FastInterval < 0 {
		return fmt.Errorf("interval %s, timeout %s, fast interval %s: durations cannot be negative", s.Interval, s.Timeout, s.FastInterval)
	}
	if s.Rise < 0 || s.Fall < 0 {
		return fmt.Errorf("rise %d, fall %d: cannot be negative", s.Rise, s.Fall)
	}
	switch s.Protocol {
	case ProtocolHTTP, ProtocolHTTPS:
		if s.ExpectedStatus < 100 || s.ExpectedStatus > 599 {
			return fmt.Errorf("expected status %d: want 100 to 599", s.ExpectedStatus)
		}
		if !strings.HasPrefix(s.Path, "/") {
			return fmt.Errorf("path %q: must start with /", s.Path)
		}
	case ProtocolDNS:
		if s.DNSName == "" {
			return fmt.Errorf("dns name is empty: a dns check needs a name to ask for")
		}
		if _, ok := dns.IsDomainName(s.DNSName); !ok {
			return fmt.Errorf("dns name %q: not a domain name", s.DNSName)
		}
		if _, ok := dns.RcodeToString[s.DNSRcode]; !ok {
			return fmt.Errorf("dns rcode %d: unknown", s.DNSRcode)
		}
	}
	return nil
}

// watchable reports whether the Spec keeps a connection watch.
func (s Spec) watchable() bool {
	switch s.Protocol {
	case ProtocolHTTP, ProtocolHTTPS, ProtocolTCP:
		return !s.DisableConnWatch
	}
	return false
}
