// Command labprobe is the client of the routed anycast lab: it asks the
// anycast address, over HTTP and over DNS, which PoP answers, and prints one
// line per request:
//
//	KIND START END POP RESULT
//
// KIND is "http" or "dns"; START and END are Unix times in nanoseconds
// (request sent, answer or error seen); POP is the PoP that answered, "-" on
// failure; RESULT is "ok" or the error, to the end of the line.
//
// -addr is the IPv4 or the IPv6 anycast address; one labprobe asks one.
//
// With -count N it sends N requests of each kind, one after the other, and
// exits. Otherwise it starts one request of each kind every -every, without
// waiting for earlier ones, until SIGTERM or SIGINT.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// whoami is the DNS name whose TXT record names the PoP.
const whoami = "whoami.lab."

func main() {
	addr := flag.String("addr", "192.0.2.1", "anycast address to ask, IPv4 or IPv6 (HTTP port 80, DNS port 53)")
	every := flag.Duration("every", 5*time.Millisecond, "time between request starts, when running continuously")
	timeout := flag.Duration("timeout", 100*time.Millisecond, "how long one request may take")
	count := flag.Int("count", 0, "send this many requests of each kind and exit (0: run until stopped)")
	flag.Parse()

	p := newProber(*addr, *timeout)
	out := bufio.NewWriter(os.Stdout)
	if *count > 0 {
		for range *count {
			for _, r := range []result{p.probeHTTP(context.Background()), p.probeDNS()} {
				r.write(out)
			}
		}
		out.Flush()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	p.run(ctx, *every, out)
}

// result is one request's outcome.
type result struct {
	kind       string
	start, end time.Time
	pop        string
	err        error
}

func (r result) write(w *bufio.Writer) {
	pop, res := r.pop, "ok"
	if r.err != nil {
		pop, res = "-", strings.ReplaceAll(r.err.Error(), "\n", " ")
	}
	fmt.Fprintf(w, "%s %d %d %s %s\n", r.kind, r.start.UnixNano(), r.end.UnixNano(), pop, res)
}

type prober struct {
	addr    string
	timeout time.Duration
	httpc   *http.Client
	dnsc    *dns.Client
}

func newProber(addr string, timeout time.Duration) *prober {
	return &prober{
		addr:    addr,
		timeout: timeout,
		// A fresh connection per request: a kept-alive one would stay with
		// the PoP it was opened to and hide a routing change.
		httpc: &http.Client{Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
		}},
		dnsc: &dns.Client{Net: "udp", Timeout: timeout},
	}
}

// run starts both kinds of request every interval until ctx ends, and
// writes each result as it comes.
func (p *prober) run(ctx context.Context, every time.Duration, out *bufio.Writer) {
	results := make(chan result, 1024)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		var reqs sync.WaitGroup
		defer reqs.Wait()
		for {
			reqs.Go(func() { results <- p.probeHTTP(ctx) })
			reqs.Go(func() { results <- p.probeDNS() })
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		r.write(out)
		if len(results) == 0 {
			out.Flush()
		}
	}
	out.Flush()
}

// probeHTTP asks for / and takes the PoP from the X-Pop header, which must agree
// with the body.
func (p *prober) probeHTTP(ctx context.Context) result {
	r := result{kind: "http", start: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	r.pop, r.err = p.httpPop(ctx)
	r.end = time.Now()
	return r
}

func (p *prober) httpPop(ctx context.Context) (string, error) {
	url := "http://" + net.JoinHostPort(p.addr, "80") + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := p.httpc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return "", fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	pop := resp.Header.Get("X-Pop")
	switch {
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	case pop == "":
		return "", fmt.Errorf("GET %s: no X-Pop header", url)
	case strings.TrimSpace(string(body)) != pop:
		return "", fmt.Errorf("GET %s: X-Pop %q but body %q", url, pop, body)
	}
	return pop, nil
}

// probeDNS asks for the TXT record of whoami.lab.
func (p *prober) probeDNS() result {
	r := result{kind: "dns", start: time.Now()}
	r.pop, r.err = p.dnsPop()
	r.end = time.Now()
	return r
}

func (p *prober) dnsPop() (string, error) {
	q := new(dns.Msg)
	q.SetQuestion(whoami, dns.TypeTXT)
	resp, _, err := p.dnsc.Exchange(q, net.JoinHostPort(p.addr, "53"))
	if err != nil {
		return "", fmt.Errorf("TXT %s: %w", whoami, err)
	}
	if resp.Rcode != dns.RcodeSuccess {
		return "", fmt.Errorf("TXT %s: rcode %s", whoami, dns.RcodeToString[resp.Rcode])
	}
	for _, rr := range resp.Answer {
		if txt, ok := rr.(*dns.TXT); ok && len(txt.Txt) == 1 {
			return txt.Txt[0], nil
		}
	}
	return "", errors.New("TXT " + whoami + ": no single-string TXT answer")
}
