package compile

import "testing"

func TestResolveName(t *testing.T) {
	tests := []struct {
		name, apex, want string
	}{
		{"", "gslb.example.com.", "gslb.example.com."},
		{"@", "gslb.example.com.", "gslb.example.com."},
		{"www", "gslb.example.com.", "www.gslb.example.com."},
		{"WWW", "GSLB.example.com", "www.gslb.example.com."},
		{"a.b", "gslb.example.com.", "a.b.gslb.example.com."},
		{"www.gslb.example.com", "gslb.example.com.", "www.gslb.example.com."},
		{"gslb.example.com", "gslb.example.com.", "gslb.example.com."},
		{"www.other.net.", "gslb.example.com.", "www.other.net."},
		{"xgslb.example.com", "gslb.example.com.", "xgslb.example.com.gslb.example.com."},
		{"www.example.org", "", "www.example.org."},
		{" www ", "gslb.example.com.", "www.gslb.example.com."},
	}
	for _, tt := range tests {
		if got := resolveName(tt.name, tt.apex); got != tt.want {
			t.Errorf("resolveName(%q, %q) = %q, want %q", tt.name, tt.apex, got, tt.want)
		}
	}
}

func TestFqdn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Example.COM", "example.com."},
		{"example.com.", "example.com."},
		{".", "."},
	}
	for _, tt := range tests {
		if got := fqdn(tt.in); got != tt.want {
			t.Errorf("fqdn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
