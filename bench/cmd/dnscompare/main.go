// Command dnscompare sends the queries of a dnsperf binary query file (what
// bench/cmd/benchgen writes) to two DNS servers over UDP and checks that
// they answer alike: the same rcode, the same answer records (TTLs
// included, in any order), the same types of authority records and the
// same ECS scope. bench/dns.sh runs it before timing, so that a
// comparison is always between servers giving the same answers. It exits
// 1 when any query is answered differently, printing the first few.
//
//	dnscompare -a 127.0.0.1:5301 -b 127.0.0.1:5302 -queries queries.bin
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

func main() {
	a := flag.String("a", "", "the first server, host:port (required)")
	b := flag.String("b", "", "the second server, host:port (required)")
	file := flag.String("queries", "", "dnsperf binary query file (required)")
	n := flag.Int("n", 0, "compare at most this many queries (0: all)")
	show := flag.Int("show", 5, "differences to print")
	flag.Parse()
	if *a == "" || *b == "" || *file == "" {
		fmt.Fprintln(os.Stderr, "dnscompare: -a, -b and -queries are required")
		os.Exit(2)
	}
	qs, err := readQueries(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnscompare:", err)
		os.Exit(1)
	}
	if *n > 0 && *n < len(qs) {
		qs = qs[:*n]
	}
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second, UDPSize: 4096}
	differ := 0
	for i, q := range qs {
		ra, err := exchange(c, q, *a)
		if err == nil {
			var rb string
			if rb, err = exchange(c, q, *b); err == nil && ra != rb {
				differ++
				if differ <= *show {
					fmt.Printf("query %d: %s\n  %s: %s\n  %s: %s\n", i, question(q), *a, ra, *b, rb)
				}
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "dnscompare: query %d (%s): %v\n", i, question(q), err)
			os.Exit(1)
		}
	}
	fmt.Printf("dnscompare: %d queries, %d answered differently by %s and %s\n", len(qs), differ, *a, *b)
	if differ > 0 {
		os.Exit(1)
	}
}

// readQueries splits a dnsperf binary query file: each query is a 2-byte
// big-endian length and the message.
func readQueries(path string) ([]*dns.Msg, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*dns.Msg
	for len(b) > 0 {
		if len(b) < 2 || int(binary.BigEndian.Uint16(b)) > len(b)-2 {
			return nil, fmt.Errorf("%s: query %d is cut short", path, len(out))
		}
		n := int(binary.BigEndian.Uint16(b))
		m := new(dns.Msg)
		if err := m.Unpack(b[2 : 2+n]); err != nil {
			return nil, fmt.Errorf("%s: query %d: %w", path, len(out), err)
		}
		out = append(out, m)
		b = b[2+n:]
	}
	return out, nil
}

// exchange asks server q and describes the reply in the terms compared.
func exchange(c *dns.Client, q *dns.Msg, server string) (string, error) {
	q = q.Copy()
	q.Id = dns.Id()
	r, _, err := c.Exchange(q, server)
	if err != nil {
		return "", err
	}
	var answer, authority []string
	for _, rr := range r.Answer {
		answer = append(answer, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	for _, rr := range r.Ns {
		authority = append(authority, dns.TypeToString[rr.Header().Rrtype])
	}
	slices.Sort(answer)
	slices.Sort(authority)
	scope := "none"
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				scope = fmt.Sprint(s.SourceScope)
			}
		}
	}
	return fmt.Sprintf("%s answer=[%s] authority=[%s] scope=%s", dns.RcodeToString[r.Rcode],
		strings.Join(answer, "; "), strings.Join(authority, " "), scope), nil
}

// question is q's question and ECS option, for messages.
func question(q *dns.Msg) string {
	s := strings.ReplaceAll(strings.TrimPrefix(q.Question[0].String(), ";"), "\t", " ")
	if opt := q.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_SUBNET); ok {
				s += fmt.Sprintf(" ECS %s/%d", e.Address, e.SourceNetmask)
			}
		}
	}
	return s
}
