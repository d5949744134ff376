package authn_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/authn"
)

func TestIdentityOf(t *testing.T) {
	for _, c := range []struct {
		desc    string
		subject pkix.Name
		want    authn.Identity
		err     string
	}{
		{desc: "admin", subject: pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"admin"}},
			want: authn.Identity{Name: "alice", Role: authn.RoleAdmin}},
		{desc: "agent names its PoP", subject: pkix.Name{CommonName: "tokyo", OrganizationalUnit: []string{"agent"}},
			want: authn.Identity{Name: "tokyo", Role: authn.RoleAgent}},
		{desc: "other OUs beside the role are ignored", subject: pkix.Name{CommonName: "ns1", OrganizationalUnit: []string{"netops", "dns"}},
			want: authn.Identity{Name: "ns1", Role: authn.RoleDNS}},
		{desc: "the same role twice is one role", subject: pkix.Name{CommonName: "bob", OrganizationalUnit: []string{"viewer", "viewer"}},
			want: authn.Identity{Name: "bob", Role: authn.RoleViewer}},
		{desc: "no OU", subject: pkix.Name{CommonName: "eve"},
			err: `client certificate "eve" has no anyctl role: want one OrganizationalUnit of admin, viewer, agent or dns, got []`},
		{desc: "roles are case-sensitive", subject: pkix.Name{CommonName: "eve", OrganizationalUnit: []string{"Admin"}},
			err: `has no anyctl role`},
		{desc: "two roles", subject: pkix.Name{CommonName: "mallory", OrganizationalUnit: []string{"agent", "admin"}},
			err: `client certificate "mallory" has the roles agent or admin: give it exactly one`},
		{desc: "no CommonName", subject: pkix.Name{OrganizationalUnit: []string{"agent"}},
			err: `has no CommonName`},
	} {
		t.Run(c.desc, func(t *testing.T) {
			got, err := authn.IdentityOf(&x509.Certificate{Subject: c.subject})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("IdentityOf = %+v, %v; want error containing %q", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("IdentityOf = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}
