// Command labsvc is the service each PoP of the routed anycast lab runs on
// the anycast addresses: an HTTP server and a DNS server that both name the
// PoP that answered. It has no state; stopping it is killing it.
//
// -addr takes one address or a comma-separated list (the lab passes its
// IPv4 and its IPv6 anycast address); it serves on each.
//
// HTTP answers every path with status 200, the header "X-Pop: NAME" and the
// body "NAME\n" (/healthz answers "ok\n", for the agent's health check).
// DNS answers the TXT question "whoami.lab." with the PoP's name, and puts
// the name in an EDNS NSID option when the query asks for one; every other
// question is REFUSED.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"
)

// whoami is the DNS name whose TXT record is the PoP's name.
const whoami = "whoami.lab."

func main() {
	pop := flag.String("pop", "", "name of the PoP this copy of the service runs in")
	addrs := flag.String("addr", "192.0.2.1", "addresses to serve HTTP (port 80) and DNS (port 53) on, comma-separated")
	flag.Parse()
	if err := run(*pop, strings.Split(*addrs, ",")); err != nil {
		fmt.Fprintf(os.Stderr, "labsvc: %v\n", err)
		os.Exit(1)
	}
}

// run serves on every address until SIGTERM or SIGINT.
func run(pop string, addrs []string) error {
	if pop == "" {
		return errors.New("flag -pop is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	web := &http.Server{Handler: httpHandler(pop)}
	dnsHandler := dnsHandler(pop)
	var listeners []net.Listener
	var servers []*dns.Server
	for _, addr := range addrs {
		lis, udp, tcp, err := listen(addr)
		if err != nil {
			return err
		}
		listeners = append(listeners, lis)
		servers = append(servers,
			&dns.Server{PacketConn: udp, Handler: dnsHandler},
			&dns.Server{Listener: tcp, Handler: dnsHandler})
	}
	errc := make(chan error, len(listeners)+len(servers))
	for _, lis := range listeners {
		go func() { errc <- web.Serve(lis) }()
	}
	for _, s := range servers {
		go func() { errc <- s.ActivateAndServe() }()
	}
	fmt.Fprintf(os.Stderr, "labsvc: %s serving HTTP and DNS on %s\n", pop, strings.Join(addrs, ", "))

	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serving as %q on %s: %w", pop, strings.Join(addrs, ", "), err)
	}
	web.Close()
	for _, s := range servers {
		s.Shutdown()
	}
	return nil
}

// listen opens addr's HTTP listener and DNS sockets.
func listen(addr string) (web net.Listener, udp net.PacketConn, tcp net.Listener, err error) {
	if net.ParseIP(addr) == nil {
		return nil, nil, nil, fmt.Errorf("-addr: %q is not an IP address", addr)
	}
	if web, err = net.Listen("tcp", net.JoinHostPort(addr, "80")); err != nil {
		return nil, nil, nil, fmt.Errorf("HTTP listener on %q: %w", addr, err)
	}
	if udp, err = net.ListenPacket("udp", net.JoinHostPort(addr, "53")); err != nil {
		return nil, nil, nil, fmt.Errorf("DNS UDP socket on %q: %w", addr, err)
	}
	if tcp, err = net.Listen("tcp", net.JoinHostPort(addr, "53")); err != nil {
		return nil, nil, nil, fmt.Errorf("DNS TCP listener on %q: %w", addr, err)
	}
	return web, udp, tcp, nil
}

func httpHandler(pop string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Pop", pop)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Pop", pop)
		fmt.Fprintln(w, pop)
	})
	return mux
}

func dnsHandler(pop string) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		switch {
		case len(q.Question) != 1 || dns.CanonicalName(q.Question[0].Name) != whoami:
			m.Rcode = dns.RcodeRefused
		case q.Question[0].Qtype == dns.TypeTXT:
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: whoami, Rrtype: dns.TypeTXT, Class: dns.ClassINET},
				Txt: []string{pop},
			})
		}
		if opt := q.IsEdns0(); opt != nil {
			m.SetEdns0(opt.UDPSize(), false)
			for _, o := range opt.Option {
				if o.Option() == dns.EDNS0NSID {
					rOpt := m.IsEdns0()
					rOpt.Option = append(rOpt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hex.EncodeToString([]byte(pop))})
				}
			}
		}
		_ = w.WriteMsg(m)
	})
}
