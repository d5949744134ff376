// Package authn is the controller's least-authority layer: the identity and
// role a client certificate carries, the TLS configs of both ends of mutual
// TLS, and the gRPC interceptors that allow each API method only to the
// roles it is for.
package authn

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// Role is what a client certificate's Subject OrganizationalUnit allows.
type Role string

// The roles. A certificate carries exactly one of them.
const (
	// RoleAdmin may call every method.
	RoleAdmin Role = "admin"
	// RoleViewer may read the desired state and the fleet's status.
	RoleViewer Role = "viewer"
	// RoleAgent may hold the Agent API stream of the PoP its certificate's
	// CommonName names.
	RoleAgent Role = "agent"
	// RoleDNS may subscribe to the GSLB feed.
	RoleDNS Role = "dns"
)

// Roles lists every role.
func Roles() []Role { return []Role{RoleAdmin, RoleViewer, RoleAgent, RoleDNS} }

// Identity is who a verified client certificate says the caller is.
type Identity struct {
	// Name is the certificate's CommonName: a person or tool, the PoP of an
	// agent, a DNS server.
	Name string
	// Role is the one role the certificate carries.
	Role Role
}

// IdentityOf reads the identity from a verified client certificate: the
// CommonName, and the one role among its OrganizationalUnits. A certificate
// with no role, more than one, or no CommonName is refused.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	cn := cert.Subject.CommonName
	if cn == "" {
		return Identity{}, fmt.Errorf("client certificate (subject %q) has no CommonName: it names the caller, and an agent's names its PoP", cert.Subject.String())
	}
	var found []Role
	for _, ou := range cert.Subject.OrganizationalUnit {
		r := Role(ou)
		if slices.Contains(Roles(), r) && !slices.Contains(found, r) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 1:
		return Identity{Name: cn, Role: found[0]}, nil
	case 0:
		return Identity{}, fmt.Errorf("client certificate %q has no anyctl role: want one OrganizationalUnit of %s, got %q", cn, roleList(Roles()), cert.Subject.OrganizationalUnit)
	default:
		return Identity{}, fmt.Errorf("client certificate %q has the roles %s: give it exactly one", cn, roleList(found))
	}
}

// roleList renders roles for messages: "admin, viewer or dns".
func roleList(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

type identityKey struct{}

// NewContext returns ctx carrying the caller's identity.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity the interceptors verified for this call;
// false when the server runs without TLS.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
