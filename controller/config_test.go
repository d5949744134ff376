package controller

import (
	"math"
	"strings"
	"testing"
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
