package controller

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLocalOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7400":          true,
		"[::1]:7400":              true,
		"localhost:7400":          true,
		"unix:/run/anyctl.sock":   true,
		"0.0.0.0:7400":            false,
		"192.0.2.10:7400":         false,
		"controller.example:7400": false,
	} {
		if got := localOnly(addr); got != want {
			t.Errorf("localOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestOriginDownQuorumRefusesNaN: a quorum that is not a number compares
// false with every count, so no origin would ever be down; it is refused
// as any other share outside (0, 1).
func TestOriginDownQuorumRefusesNaN(t *testing.T) {
	for _, q := range []float64{math.NaN(), -0.1, 1, 1.5} {
		c := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), OriginDownQuorum: q}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--origin-down-quorum") {
			t.Errorf("OriginDownQuorum %v: %v; want an error naming --origin-down-quorum", q, err)
		}
	}
	c := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), OriginDownQuorum: 0.3}
	if err := c.Validate(); err != nil {
		t.Errorf("OriginDownQuorum 0.3: %v", err)
	}
}

// TestFeedConfirmEveryBounds: an interval outside 100ms to 1m is refused
// naming the flag and the value.
func TestFeedConfirmEveryBounds(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, time.Millisecond, 2 * time.Minute} {
		c := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), FeedConfirmEvery: d}
		want := fmt.Sprintf("--feed-confirm-every %q: want between 100ms and 1m", d)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FeedConfirmEvery %v: %v; want an error containing %q", d, err, want)
		}
	}
	c := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if err := c.Validate(); err != nil || c.FeedConfirmEvery != DefaultFeedConfirmEvery {
		t.Errorf("FeedConfirmEvery unset: %v, %v; want %v", c.FeedConfirmEvery, err, DefaultFeedConfirmEvery)
	}
}

// TestEtcdEndpointsOneTransport: the etcd client dials every endpoint the
// way it dials the first, so endpoints that mix plain text and TLS, or TLS
// files that no endpoint would use, are refused naming the endpoints.
func TestEtcdEndpointsOneTransport(t *testing.T) {
	for _, tc := range []struct {
		endpoints []string
		ca        string
		want      string
	}{
		{[]string{"http://10.0.0.1:2379", "https://10.0.0.2:2379"}, "", `--etcd-endpoints ["http://10.0.0.1:2379" "https://10.0.0.2:2379"]: "http://10.0.0.1:2379" is plain text and "https://10.0.0.2:2379" TLS`},
		{[]string{"https://10.0.0.1:2379", "unix:///run/etcd.sock"}, "", `"https://10.0.0.1:2379" is TLS and "unix:///run/etcd.sock" plain text`},
		{[]string{"10.0.0.1:2379", "http://10.0.0.2:2379"}, "ca.pem", `"10.0.0.1:2379" is TLS (--etcd-ca or --etcd-cert given) and "http://10.0.0.2:2379" plain text`},
		{[]string{"http://10.0.0.1:2379"}, "ca.pem", `--etcd-ca/--etcd-cert given, but every endpoint in --etcd-endpoints ["http://10.0.0.1:2379"] is plain text`},
	} {
		c := Config{Listen: "127.0.0.1:0", EtcdEndpoints: tc.endpoints, EtcdCA: tc.ca}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("endpoints %q, CA %q: %v; want an error containing %q", tc.endpoints, tc.ca, err, tc.want)
		}
	}
	for _, tc := range []struct {
		endpoints []string
		ca        string
	}{
		{[]string{"http://10.0.0.1:2379", "10.0.0.2:2379", "unix:///run/etcd.sock"}, ""},
		{[]string{"https://10.0.0.1:2379", "10.0.0.2:2379", "unix:///run/etcd.sock"}, "ca.pem"},
		{[]string{"unixs:///run/etcd.sock", "https://10.0.0.2:2379"}, ""},
		{[]string{"https://10.0.0.1:2379", "HTTPS://10.0.0.2:2379"}, ""},
	} {
		c := Config{Listen: "127.0.0.1:0", EtcdEndpoints: tc.endpoints, EtcdCA: tc.ca}
		if err := c.Validate(); err != nil {
			t.Errorf("endpoints %q, CA %q: %v", tc.endpoints, tc.ca, err)
		}
	}
}
