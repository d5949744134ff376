package health

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// dnsProber asks one question over UDP and wants a given response code.
type dnsProber struct {
	target  string
	name    string
	qtype   uint16
	rcode   int
	timeout time.Duration
	client  *dns.Client
}

func newDNSProber(s Spec) *dnsProber {
	return &dnsProber{
		target:  s.Target,
		name:    s.DNSName,
		qtype:   s.DNSType,
		rcode:   s.DNSRcode,
		timeout: s.Timeout,
		client:  &dns.Client{Net: "udp", Timeout: s.Timeout},
	}
}

// Probe sends the question on a fresh UDP socket. On a connected UDP socket
// an ICMP port unreachable fails the read at once, so a dead server is seen
// without waiting for the timeout.
func (p *dnsProber) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	q := new(dns.Msg)
	q.SetQuestion(p.name, p.qtype)
	r, _, err := p.client.ExchangeContext(ctx, q, p.target)
	if err != nil {
		return fmt.Errorf("dns %s %s @%s: %w", p.name, dns.TypeToString[p.qtype], p.target, err)
	}
	if r.Rcode != p.rcode {
		return fmt.Errorf("dns %s %s @%s: rcode %s, want %s", p.name, dns.TypeToString[p.qtype], p.target,
			rcodeName(r.Rcode), rcodeName(p.rcode))
	}
	return nil
}

func rcodeName(r int) string {
	if s, ok := dns.RcodeToString[r]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", r)
}
