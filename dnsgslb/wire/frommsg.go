package wire

import (
	"net/netip"

	"github.com/miekg/dns"
)

// FromMsg fills q from a message parsed by github.com/miekg/dns: the
// fallback for shapes Parse does not take, and the TCP path. A request
// with no question or several questions is a FORMERR.
func FromMsg(m *dns.Msg, q *Query) {
	*q = Query{ID: m.Id, Opcode: uint8(m.Opcode)}
	if m.RecursionDesired {
		q.Flags |= FlagRD
	}
	if m.CheckingDisabled {
		q.Flags |= FlagCD
	}
	if len(m.Question) != 1 {
		q.FormErr = true
	} else {
		qs := m.Question[0]
		n, err := dns.PackDomainName(dns.Fqdn(qs.Name), q.Name[:], 0, nil, false)
		if err != nil {
			q.FormErr = true
		} else {
			q.NameLen = n
			q.HasQuestion = true
			q.Qtype, q.Qclass = qs.Qtype, qs.Qclass
		}
	}
	opt := m.IsEdns0()
	if opt == nil {
		return
	}
	q.EDNS = true
	q.UDPSize = opt.UDPSize()
	q.Version = opt.Version()
	q.DO = opt.Do()
	for _, o := range opt.Option {
		s, ok := o.(*dns.EDNS0_SUBNET)
		if !ok {
			continue
		}
		if q.ECS || !setECSFromOption(q, s) {
			q.FormErr = true
		}
	}
}

func setECSFromOption(q *Query, s *dns.EDNS0_SUBNET) bool {
	var body [20]byte
	body[0], body[1] = byte(s.Family>>8), byte(s.Family)
	body[2] = s.SourceNetmask
	n := ecsAddrLen(s.SourceNetmask)
	a, ok := netip.AddrFromSlice(s.Address)
	switch s.Family {
	case 1:
		if !ok || n > 4 {
			return false
		}
		b := a.Unmap().As4()
		copy(body[4:], b[:n])
	case 2:
		if !ok || n > 16 {
			return false
		}
		b := a.As16()
		copy(body[4:], b[:n])
	}
	return SetECS(q, body[:4+n])
}
