package validation

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/resource"
)

func TestValidStatePasses(t *testing.T) {
	f := newFixture()
	if err := CheckApply(wrap(f.messages()...), resource.NewState(), testOpts); err != nil {
		t.Fatalf("applying a valid state to an empty store: %v", err)
	}
	if err := CheckApply(wrap(f.messages()...), newFixture().state(), testOpts); err != nil {
		t.Fatalf("re-applying a valid state: %v", err)
	}
	if err := CheckApply(wrap(f.messages()...), nil, testOpts); err != nil {
		t.Fatalf("applying a valid state with no existing state: %v", err)
	}
}

func TestObjectNameRules(t *testing.T) {
	runApplyCases(t, []applyCase{
		{"name missing", func(f *fixture) []proto.Message {
			f.sin.Metadata = nil
			return []proto.Message{f.sin}
		}, `Origin "": metadata.name: required`},
		{"upper case", func(f *fixture) []proto.Message {
			f.sin.Metadata.Name = "SIN_1"
			return []proto.Message{f.sin}
		}, `Origin "SIN_1": metadata.name "SIN_1": must be a DNS label: lower-case letters, digits and '-', 1 to 63 characters, starting and ending with a letter or digit; did you mean "sin-1"?`},
		{"longer than 63", func(f *fixture) []proto.Message {
			f.sin.Metadata.Name = strings.Repeat("a", 64)
			return []proto.Message{f.sin}
		}, `Origin "` + strings.Repeat("a", 64) + `": metadata.name "` + strings.Repeat("a", 64) + `": must be a DNS label: lower-case letters, digits and '-', 1 to 63 characters, starting and ending with a letter or digit`},
		{"ends with a hyphen", func(f *fixture) []proto.Message {
			f.sin.Metadata.Name = "sin-"
			return []proto.Message{f.sin}
		}, `Origin "sin-": metadata.name "sin-": must be a DNS label: lower-case letters, digits and '-', 1 to 63 characters, starting and ending with a letter or digit; did you mean "sin"?`},
		{"same object twice in one apply", func(f *fixture) []proto.Message {
			return []proto.Message{f.sin, f.iad, newFixture().sin}
		}, `Origin "sin": applied twice, in documents 1 and 3: merge them into one`},
	})
}

func TestObjectWithoutKind(t *testing.T) {
	f := newFixture()
	incoming := []*v1.Object{resource.Wrap(f.sin), {}}
	got := errString(CheckApply(incoming, f.state(), testOpts))
	want := `object: document 2 has no kind: set one of Pop, AnycastService, Origin, GslbZone, GslbRecord`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestErrorsSortedByDocumentThenPath(t *testing.T) {
	f := newFixture()
	f.iad.Spec.Weight = -1
	f.iad.Spec.Addresses = append(f.iad.Spec.Addresses, make([]string, 9)...)
	f.iad.Spec.Addresses[10] = "x"
	f.iad.Spec.Addresses[2] = "y"
	f.tokyo.Spec.LocalAsn = 0
	got := errString(CheckApply(wrap(f.iad, f.tokyo), newFixture().state(), testOpts))
	want := strings.Join([]string{
		`Origin "iad": spec.addresses[2] "y": not an IP address`,
		`Origin "iad": spec.addresses[3]: required`,
		`Origin "iad": spec.addresses[4]: required`,
		`Origin "iad": spec.addresses[5]: required`,
		`Origin "iad": spec.addresses[6]: required`,
		`Origin "iad": spec.addresses[7]: required`,
		`Origin "iad": spec.addresses[8]: required`,
		`Origin "iad": spec.addresses[9]: required`,
		`Origin "iad": spec.addresses[10] "x": not an IP address`,
		`Origin "iad": spec.weight "-1": weight negative: use 0 to take no weighted traffic`,
		`Pop "tokyo": spec.localAsn: ASN 0 is reserved (RFC 7607)`,
	}, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestProblemsAlreadyStoredAreNotThisApplysToFix(t *testing.T) {
	// The stored state refers to a PoP that is gone (written under older
	// rules); an unrelated apply must still pass.
	existing := newFixture()
	existing.httpSvc.Spec.Pops = &v1.PopSelector{Names: []string{"paris"}}
	f := newFixture()
	f.sin.Spec.Weight = 5
	if err := CheckApply(wrap(f.sin), existing.state(), testOpts); err != nil {
		t.Errorf("unrelated apply refused: %v", err)
	}
	// Re-applying the broken object itself reports it.
	got := errString(CheckApply(wrap(existing.httpSvc), existing.state(), testOpts))
	want := `AnycastService "edge-http": spec.pops.names[0] "paris": unknown Pop`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestConflictReportedOnIncomingSideOnly(t *testing.T) {
	f := newFixture()
	f.dnsSvc.Metadata.Name = "edge-dns-2"
	got := errString(CheckApply(wrap(f.dnsSvc), newFixture().state(), testOpts))
	want := strings.Join([]string{
		`AnycastService "edge-dns-2": spec.prefixes[0] "192.0.2.0/24": overlaps AnycastService "edge-dns"`,
		`AnycastService "edge-dns-2": spec.prefixes[1] "2001:db8:53::/48": overlaps AnycastService "edge-dns"`,
	}, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestErrorsUnwrapToFieldErrors(t *testing.T) {
	f := newFixture()
	f.tokyo.Spec.LocalAsn = 23456
	f.dnsSvc.Spec.Prefixes[0] = "127.0.0.0/8"
	err := CheckApply(wrap(f.tokyo, f.dnsSvc), newFixture().state(), testOpts)
	var all Errors
	if !errors.As(err, &all) || len(all) != 2 {
		t.Fatalf("errors.As(%v, *Errors) = %d errors, want 2", err, len(all))
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v, *FieldError) = false", err)
	}
	if want := (resource.Ref{Kind: v1.Kind_KIND_POP, Name: "tokyo"}); fe.Ref != want || fe.Path != "spec.localAsn" {
		t.Errorf("first FieldError = %v %q, want %v spec.localAsn", fe.Ref, fe.Path, want)
	}
	for _, target := range []error{ErrReservedASN, ErrMartian} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(err, %v) = false", target)
		}
	}
}
