package validation

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

func TestFieldErrorFormat(t *testing.T) {
	svc := resource.Ref{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: "edge-dns"}
	cases := []struct {
		e    FieldError
		want string
	}{
		{FieldError{Ref: svc, Path: "spec.prefixes[1]", Value: "203.0.113.0/23", Msg: `overlaps AnycastService "edge-http"`},
			`AnycastService "edge-dns": spec.prefixes[1] "203.0.113.0/23": overlaps AnycastService "edge-http"`},
		{FieldError{Ref: resource.Ref{Kind: v1.Kind_KIND_POP, Name: "tokyo"}, Path: "spec.localAsn", Msg: "ASN 23456 is AS_TRANS (RFC 6793)"},
			`Pop "tokyo": spec.localAsn: ASN 23456 is AS_TRANS (RFC 6793)`},
		{FieldError{Ref: svc, Msg: "applied twice"}, `AnycastService "edge-dns": applied twice`},
		{FieldError{Ref: svc, Value: "x", Msg: "bad"}, `AnycastService "edge-dns": "x": bad`},
		{FieldError{Msg: "document 1 has no kind"}, `object: document 1 has no kind`},
	}
	for _, tc := range cases {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %s\nwant      %s", got, tc.want)
		}
	}
}

func TestPathLess(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"spec.prefixes[2]", "spec.prefixes[10]", true},
		{"spec.prefixes[10]", "spec.prefixes[2]", false},
		{"spec.peers[1].address", "spec.peers[1].port", true},
		{"spec.peers[01]", "spec.peers[1]", false},
		{"", "metadata.name", true},
		{"spec.location", "spec.location.latitude", true},
		{"spec.a", "spec.a", false},
	}
	for _, tc := range cases {
		if got := pathLess(tc.a, tc.b); got != tc.want {
			t.Errorf("pathLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// errString renders an error for comparison, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
