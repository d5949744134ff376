package health

import (
	"context"
	"net"
	"time"
)

// tcpProber succeeds when a TCP connection to the target is established.
type tcpProber struct {
	target  string
	timeout time.Duration
}

func newTCPProber(s Spec) *tcpProber {
	return &tcpProber{target: s.Target, timeout: s.Timeout}
}

// Probe connects and closes. The dial error already names the target
// ("dial tcp 10.0.0.1:80: connect: connection refused").
func (p *tcpProber) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", p.target)
	if err != nil {
		return err
	}
	return conn.Close()
}
