package fleettest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// probeInterval is how often the prober asks each DNS server.
const probeInterval = 50 * time.Millisecond

// dnsProber asks every DNS server for www.fleet.test A every probeInterval
// over UDP, as a resolver would, and counts the queries that fail: no
// answer within a second, an rcode other than NOERROR, or not the record.
type dnsProber struct {
	mu       sync.Mutex // guards the fields below
	queries  int
	failures int
	samples  []string // the first failures, for the test's message
	stop     chan struct{}
	done     sync.WaitGroup
}

func startProber(t *testing.T, servers []*dnsRun) *dnsProber {
	p := &dnsProber{stop: make(chan struct{})}
	for _, s := range servers {
		p.done.Go(func() {
			tick := time.NewTicker(probeInterval)
			defer tick.Stop()
			for {
				select {
				case <-p.stop:
					return
				case <-tick.C:
				}
				err := queryOnce(s.addr)
				p.mu.Lock()
				p.queries++
				if err != nil {
					p.failures++
					if len(p.samples) < 5 {
						p.samples = append(p.samples, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), s.addr, err))
					}
				}
				p.mu.Unlock()
			}
		})
	}
	t.Cleanup(func() {
		close(p.stop)
		p.done.Wait()
	})
	return p
}

// counts returns the queries and failures so far, and the first failures.
func (p *dnsProber) counts() (queries, failures int, samples []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queries, p.failures, append([]string(nil), p.samples...)
}

func queryOnce(addr string) error {
	m := new(dns.Msg)
	m.SetQuestion("www.fleet.test.", dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == "192.0.2.10" {
			return nil
		}
	}
	return fmt.Errorf("no A 192.0.2.10 in %v", r.Answer)
}
