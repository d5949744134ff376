package health

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/types/known/durationpb"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func TestFromProto(t *testing.T) {
	const (
		httpP = v1.CheckProtocol_CHECK_PROTOCOL_HTTP
		tcpP  = v1.CheckProtocol_CHECK_PROTOCOL_TCP
		dnsP  = v1.CheckProtocol_CHECK_PROTOCOL_DNS
	)
	tests := []struct {
		name    string
		hc      *v1.HealthCheck
		host    string
		want    Spec
		wantErr string
	}{
		{
			name: "http defaults",
			hc:   &v1.HealthCheck{Protocol: httpP},
			host: "192.0.2.1",
			want: Spec{Protocol: "http", Target: "192.0.2.1:80", Path: "/", ExpectedStatus: 200,
				Interval: time.Second, Timeout: time.Second, Rise: 2, Fall: 2},
		},
		{
			name: "empty host takes the default, port kept",
			hc: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTPS, Target: ":8443", Path: "/healthz",
				Host: "svc.example", ExpectedStatus: 204, ExpectBody: "ok", InsecureSkipVerify: true,
				Interval: durationpb.New(100 * time.Millisecond), Rise: 3, Fall: 1},
			host: "2001:db8::1",
			want: Spec{Protocol: "https", Target: "[2001:db8::1]:8443", Path: "/healthz", Host: "svc.example",
				ExpectedStatus: 204, ExpectBody: "ok", InsecureSkipVerify: true,
				Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond, Rise: 3, Fall: 1},
		},
		{
			name: "explicit target and timeout",
			hc: &v1.HealthCheck{Protocol: tcpP, Target: "10.0.0.1:22",
				Interval: durationpb.New(5 * time.Second), Timeout: durationpb.New(2 * time.Second)},
			want: Spec{Protocol: "tcp", Target: "10.0.0.1:22", Interval: 5 * time.Second, Timeout: 2 * time.Second, Rise: 2, Fall: 2},
		},
		{
			name: "dns with type and rcode",
			hc:   &v1.HealthCheck{Protocol: dnsP, DnsName: "health.example", DnsType: "soa", DnsRcode: "nxdomain"},
			host: "192.0.2.53",
			want: Spec{Protocol: "dns", Target: "192.0.2.53:53", DNSName: "health.example.", DNSType: dns.TypeSOA,
				DNSRcode: dns.RcodeNameError, Interval: time.Second, Timeout: time.Second, Rise: 2, Fall: 2},
		},
		{
			name: "bare address takes the protocol port",
			hc:   &v1.HealthCheck{Protocol: dnsP, Target: "2001:db8::53", DnsName: "a.example."},
			want: Spec{Protocol: "dns", Target: "[2001:db8::53]:53", DNSName: "a.example.", DNSType: dns.TypeA,
				Interval: time.Second, Timeout: time.Second, Rise: 2, Fall: 2},
		},
		{name: "missing", hc: nil, wantErr: "health_check: missing"},
		{name: "unspecified protocol", hc: &v1.HealthCheck{Target: "a:1"}, wantErr: `health_check.protocol "CHECK_PROTOCOL_UNSPECIFIED"`},
		{name: "tcp needs a port", hc: &v1.HealthCheck{Protocol: tcpP}, host: "192.0.2.1", wantErr: `health_check.target "": a tcp check needs a port`},
		{name: "no host anywhere", hc: &v1.HealthCheck{Protocol: httpP, Target: ":80"}, wantErr: `health_check.target ":80": no host`},
		{name: "bad port", hc: &v1.HealthCheck{Protocol: httpP, Target: "a:http"}, wantErr: `port "http"`},
		{name: "negative interval", hc: &v1.HealthCheck{Protocol: httpP, Target: "a:80", Interval: durationpb.New(-time.Second)},
			wantErr: `health_check.interval "-1s": cannot be negative`},
		{name: "bad dns type", hc: &v1.HealthCheck{Protocol: dnsP, Target: "a:53", DnsName: "x.", DnsType: "BOGUS"},
			wantErr: `health_check.dns_type "BOGUS"`},
		{name: "bad dns rcode", hc: &v1.HealthCheck{Protocol: dnsP, Target: "a:53", DnsName: "x.", DnsRcode: "MAYBE"},
			wantErr: `health_check.dns_rcode "MAYBE"`},
		{name: "dns without a name", hc: &v1.HealthCheck{Protocol: dnsP, Target: "a:53"}, wantErr: "dns name is empty"},
		{name: "path without slash", hc: &v1.HealthCheck{Protocol: httpP, Target: "a:80", Path: "healthz"},
			wantErr: `path "healthz": must start with /`},
		{name: "status out of range", hc: &v1.HealthCheck{Protocol: httpP, Target: "a:80", ExpectedStatus: 999},
			wantErr: "expected status 999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromProto(tt.hc, tt.host)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromProto error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromProto: %v", err)
			}
			if got != tt.want {
				t.Fatalf("FromProto =\n%+v, want\n%+v", got, tt.want)
			}
		})
	}
}

func TestDampFromProto(t *testing.T) {
	tests := []struct {
		name    string
		a       *v1.ServiceAssignment
		want    DampConfig
		wantErr string
	}{
		{"unset", &v1.ServiceAssignment{}, DampConfig{}, ""},
		{"set", &v1.ServiceAssignment{HoldDown: durationpb.New(time.Second), HoldDownMax: durationpb.New(time.Minute),
			FlapWindow: durationpb.New(time.Hour)},
			DampConfig{HoldDown: time.Second, HoldDownMax: time.Minute, FlapWindow: time.Hour}, ""},
		{"max below hold-down", &v1.ServiceAssignment{HoldDown: durationpb.New(time.Minute), HoldDownMax: durationpb.New(time.Second)},
			DampConfig{}, `hold_down_max "1s": shorter than hold_down "1m0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DampFromProto(tt.a)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DampFromProto error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DampFromProto = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
