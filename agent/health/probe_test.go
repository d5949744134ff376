package health

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// probeOnce builds a Prober for s and runs it once.
func probeOnce(t *testing.T, s Spec) error {
	t.Helper()
	p, err := NewProber(s)
	if err != nil {
		t.Fatalf("NewProber(%+v): %v", s, err)
	}
	return p.Probe(context.Background())
}

// checkErr fails unless err is nil when want is empty, or contains want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("probe failed: %v, want success", err)
	case want != "" && err == nil:
		t.Fatalf("probe succeeded, want an error containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("probe error %q, want it to contain %q", err, want)
	}
}

func TestProbeHTTP(t *testing.T) {
	ht := startHTTPTarget(t, false)
	url := "http://" + ht.Addr()
	tests := []struct {
		name string
		spec Spec
		sick bool
		want string
	}{
		{name: "healthy", spec: Spec{Path: "/health"}},
		{name: "body substring", spec: Spec{Path: "/health", ExpectBody: "good"}},
		{name: "503", spec: Spec{Path: "/health"}, sick: true, want: "GET " + url + "/health: status 503, want 200"},
		{name: "body missing", spec: Spec{Path: "/nobody", ExpectBody: "good"}, want: `body does not contain "good"`},
		{name: "redirect not followed", spec: Spec{Path: "/moved"}, want: "status 302, want 200"},
		{name: "redirect expected", spec: Spec{Path: "/moved", ExpectedStatus: 302}},
		{name: "host header", spec: Spec{Path: "/vhost", Host: "svc.example"}},
		{name: "wrong host header", spec: Spec{Path: "/vhost", Host: "other.example"}, want: "status 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ht.healthy.Store(!tt.sick)
			s := tt.spec
			s.Protocol, s.Target = ProtocolHTTP, ht.Addr()
			checkErr(t, probeOnce(t, s), tt.want)
		})
	}
}

func TestProbeHTTPS(t *testing.T) {
	ht := startHTTPTarget(t, true)
	tests := []struct {
		name     string
		insecure bool
		want     string
	}{
		{"self-signed accepted with insecure_skip_verify", true, ""},
		{"self-signed refused by default", false, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Spec{Protocol: ProtocolHTTPS, Target: ht.Addr(), Path: "/health", InsecureSkipVerify: tt.insecure}
			checkErr(t, probeOnce(t, s), tt.want)
		})
	}
}

// TestProbeHTTPFreshConnection shows that keep-alive is off: once the server
// is gone, the next probe fails instead of reusing an old connection.
func TestProbeHTTPFreshConnection(t *testing.T) {
	ht := startHTTPTarget(t, false)
	p, err := NewProber(Spec{Protocol: ProtocolHTTP, Target: ht.Addr(), Path: "/health"})
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, p.Probe(context.Background()), "")
	ht.srv.Close()
	checkErr(t, p.Probe(context.Background()), "connection refused")
}

func TestProbeHTTPTimeout(t *testing.T) {
	silent := startTCPTarget(t, false) // accepts, never answers
	s := Spec{Protocol: ProtocolHTTP, Target: silent.Addr(), Timeout: 20 * time.Millisecond}
	checkErr(t, probeOnce(t, s), "no response within 20ms")
}

func TestProbeTCP(t *testing.T) {
	tt := startTCPTarget(t, false)
	p, err := NewProber(Spec{Protocol: ProtocolTCP, Target: tt.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, p.Probe(context.Background()), "")
	tt.Kill()
	checkErr(t, p.Probe(context.Background()), "dial tcp "+tt.Addr()+": connect: connection refused")
}

func TestProbeDNS(t *testing.T) {
	addr := startDNSTarget(t)
	tests := []struct {
		name  string
		qname string
		qtype uint16
		rcode int
		want  string
	}{
		{"noerror", "ok.test", dns.TypeA, dns.RcodeSuccess, ""},
		{"nodata is noerror", "ok.test.", dns.TypeAAAA, dns.RcodeSuccess, ""},
		{"servfail", "broken.test.", dns.TypeA, dns.RcodeSuccess,
			"dns broken.test. A @" + addr + ": rcode SERVFAIL, want NOERROR"},
		{"nxdomain wanted", "missing.test.", dns.TypeA, dns.RcodeNameError, ""},
		{"nxdomain unwanted", "missing.test.", dns.TypeA, dns.RcodeSuccess, "rcode NXDOMAIN, want NOERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Spec{Protocol: ProtocolDNS, Target: addr, DNSName: tt.qname, DNSType: tt.qtype, DNSRcode: tt.rcode}
			checkErr(t, probeOnce(t, s), tt.want)
		})
	}
}

func TestProbeDNSDeadServer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens: the kernel answers port unreachable
	s := Spec{Protocol: ProtocolDNS, Target: addr, DNSName: "ok.test.", Timeout: 5 * time.Second}
	err = probeOnce(t, s)
	checkErr(t, err, "dns ok.test. A @"+addr+": read udp")
	checkErr(t, err, "connection refused")
}

func TestNewProberRejects(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"unknown protocol", Spec{Protocol: "icmp", Target: "a:1"}, `protocol "icmp"`},
		{"no port", Spec{Protocol: ProtocolTCP, Target: "a"}, `target "a": want host:port`},
		{"negative rise", Spec{Protocol: ProtocolTCP, Target: "a:1", Rise: -1}, "rise -1"},
		{"bad dns name", Spec{Protocol: ProtocolDNS, Target: "a:53", DNSName: "a..b"}, `dns name "a..b."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewProber(tt.spec)
			checkErr(t, err, tt.want)
		})
	}
}
