package controller

import "testing"

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
