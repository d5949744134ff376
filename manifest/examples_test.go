package manifest

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/reflect/protoreflect"
)

const examplesDir = "../deploy/examples"

// TestExamples decodes every file of the example deployment and checks what
// it declares.
func TestExamples(t *testing.T) {
	tests := []struct {
		file  string
		kinds map[v1.Kind]int
	}{
		{"pops.yaml", map[v1.Kind]int{v1.Kind_KIND_POP: 4}},
		{"services.yaml", map[v1.Kind]int{v1.Kind_KIND_ANYCAST_SERVICE: 2}},
		{"origins.yaml", map[v1.Kind]int{v1.Kind_KIND_ORIGIN: 3}},
		{"gslb.yaml", map[v1.Kind]int{v1.Kind_KIND_GSLB_ZONE: 1, v1.Kind_KIND_GSLB_RECORD: 8}},
	}
	var listed []string
	for _, tt := range tests {
		listed = append(listed, tt.file)
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(examplesDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			objs, err := Decode(f, tt.file)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got := map[v1.Kind]int{}
			for _, o := range objs {
				got[resource.KindOf(o)]++
			}
			for _, k := range resource.Kinds() {
				if got[k] != tt.kinds[k] {
					t.Errorf("%s holds %d %s objects, want %d", tt.file, got[k], resource.KindName(k), tt.kinds[k])
				}
			}
		})
	}
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.Contains(listed, filepath.Base(f)) {
			t.Errorf("%s is not checked by TestExamples: add it to the table", f)
		}
	}
}

// documentation are the address ranges examples may use (RFC 5737, RFC 3849).
var documentation = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// TestExamplesUseDocumentationResources checks that every address in the
// examples is in a documentation range, that peers use documentation ASNs
// (RFC 5398) and that every name the examples refer to is declared.
func TestExamplesUseDocumentationResources(t *testing.T) {
	objs, err := LoadPaths([]string{examplesDir}, nil)
	if err != nil {
		t.Fatalf("LoadPaths: %v", err)
	}
	state := resource.NewState(objs...)
	for _, o := range objs {
		ref := resource.RefOf(o)
		eachString(resource.Inner(o).ProtoReflect(), func(s string) {
			if a, ok := parseAddress(s); ok && !slices.ContainsFunc(documentation, func(p netip.Prefix) bool { return p.Contains(a) }) {
				t.Errorf("%s: address %q is outside the documentation ranges", ref, s)
			}
		})
	}
	for name, p := range state.Pops {
		if asn := p.GetSpec().GetLocalAsn(); asn < 64512 || asn > 65534 {
			t.Errorf("Pop %q: localAsn %d is not a private ASN", name, asn)
		}
		for _, peer := range p.GetSpec().GetPeers() {
			if asn := peer.GetPeerAsn(); asn < 64496 || asn > 64511 {
				t.Errorf("Pop %q: peer %q: peerAsn %d is outside the documentation range 64496-64511", name, peer.GetAddress(), asn)
			}
		}
	}
	for name, s := range state.Services {
		for _, pop := range s.GetSpec().GetPops().GetNames() {
			if state.Pops[pop] == nil {
				t.Errorf("AnycastService %q selects undeclared Pop %q", name, pop)
			}
		}
	}
	for name, r := range state.Records {
		if state.Zones[r.GetSpec().GetZone()] == nil {
			t.Errorf("GslbRecord %q is in undeclared GslbZone %q", name, r.GetSpec().GetZone())
		}
		candidates := r.GetSpec().GetOrigins()
		for _, rule := range r.GetSpec().GetResidency() {
			candidates = append(candidates, rule.GetAllowed()...)
		}
		for _, origin := range candidates {
			if state.Origins[origin] == nil {
				t.Errorf("GslbRecord %q chooses undeclared Origin %q", name, origin)
			}
		}
	}
}

// parseAddress reads an address, a prefix or a host:port.
func parseAddress(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		a, err := netip.ParseAddr(host)
		return a, err == nil
	}
	return netip.Addr{}, false
}

// eachString calls f with every string in a message, recursively.
func eachString(m protoreflect.Message, f func(string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			for i := range v.List().Len() {
				eachValue(fd, v.List().Get(i), f)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				eachValue(fd.MapValue(), mv, f)
				return true
			})
		default:
			eachValue(fd, v, f)
		}
		return true
	})
}

func eachValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, f func(string)) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		f(v.String())
	case protoreflect.MessageKind:
		eachString(v.Message(), f)
	}
}
