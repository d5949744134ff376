package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// standins are local stand-ins for the services the example deployment
// health-checks: a DNS server (edge-dns), an HTTP server answering
// /healthz (edge-http and the origins). Every PoP's agent checks them, so
// every PoP comes up healthy without root or real services.
type standins struct {
	dnsAddr  string
	httpAddr string
	dnsSrv   *dns.Server
	httpSrv  *http.Server
	// dnsFailing makes the DNS stand-in answer SERVFAIL.
	dnsFailing atomic.Bool
}

func startStandins() (*standins, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("DNS stand-in: %w", err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("HTTP stand-in: %w", err)
	}
	s := &standins{dnsAddr: pc.LocalAddr().String(), httpAddr: hl.Addr().String()}
	started := make(chan struct{})
	s.dnsSrv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if s.dnsFailing.Load() {
			m := new(dns.Msg)
			_ = w.WriteMsg(m.SetRcode(r, dns.RcodeServerFailure))
			return
		}
		answerSOA(w, r)
	}), NotifyStartedFunc: func() { close(started) }}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.dnsSrv.ActivateAndServe()
	<-started // Shutdown before the server runs would fail and leak it
	go func() {
		if err := s.httpSrv.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	return s, nil
}

// answerSOA answers any question with a NOERROR SOA, as a healthy
// authoritative server for the example zone would.
func answerSOA(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) == 1 && r.Question[0].Qtype == dns.TypeSOA {
		m.Answer = append(m.Answer, &dns.SOA{
			Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns:  "ns1." + r.Question[0].Name, Mbox: "hostmaster." + r.Question[0].Name,
			Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60,
		})
	}
	_ = w.WriteMsg(m)
}

func (s *standins) stop() {
	_ = s.dnsSrv.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.httpSrv.Shutdown(ctx)
}
