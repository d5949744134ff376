package health

import (
	"context"
	"fmt"
)

// Prober runs one check. Probe returns nil on success, or an error saying
// what failed ("GET http://10.0.0.1:80/: status 503, want 200"). It bounds
// itself by the Spec's timeout and is safe for concurrent use.
type Prober interface {
	Probe(ctx context.Context) error
}

// NewProber returns the Prober for a Spec, after filling its defaults and
// checking it.
func NewProber(s Spec) (Prober, error) {
	s = s.withDefaults()
	if err := s.validate(); err != nil {
		return nil, err
	}
	switch s.Protocol {
	case ProtocolHTTP, ProtocolHTTPS:
		return newHTTPProber(s), nil
	case ProtocolTCP:
		return newTCPProber(s), nil
	case ProtocolDNS:
		return newDNSProber(s), nil
	}
	return nil, fmt.Errorf("protocol %q: no prober", s.Protocol)
}
