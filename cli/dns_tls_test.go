package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestTLSDNSFollowsTheFeed runs `anyctl dns` with a dns certificate against
// a controller that requires mutual TLS: it gets the snapshot and answers.
func TestTLSDNSFollowsTheFeed(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	ctl := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
	})
	rev := applyAsAdmin(t, ctl, ca)
	ns1 := ca.Client(t, "ns1", authn.RoleDNS)
	d := startDNS(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--state-dir", "",
		"--tls-ca", ca.CertFile, "--tls-cert", ns1.Cert, "--tls-key", ns1.Key)
	rev = d.awaitRevision(t, rev)
	for _, tc := range exampleCases(rev) {
		if tc.qtype == dns.TypeSOA { // needs no GeoIP database
			d.check(t, tc)
		}
	}
}

// applyAsAdmin applies the example deployment with an admin certificate and
// returns the revision it was written at.
func applyAsAdmin(t *testing.T, ctl *controllertest.Running, ca *authntest.CA) int64 {
	t.Helper()
	conn, err := grpc.NewClient(ctl.Addr, grpc.WithTransportCredentials(credentials.NewTLS(ca.ClientTLS(t, "alice", authn.RoleAdmin))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dnsWait)
	defer cancel()
	resp, err := v1.NewAdminServiceClient(conn).Apply(ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		t.Fatalf("apply the example deployment as admin: %v", err)
	}
	return resp.GetRevision()
}

func TestTLSDNSOptions(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	ns1 := ca.Client(t, "ns1", authn.RoleDNS)
	viewer := ca.Client(t, "bob", authn.RoleViewer)
	tlsFor := func(p authntest.Pair) []string {
		return []string{"--tls-ca", ca.CertFile, "--tls-cert", p.Cert, "--tls-key", p.Key}
	}
	for _, c := range []struct {
		desc string
		args []string
		name string // the server's name in the controller's logs
		err  string
	}{
		{desc: "the name defaults to the certificate's", args: tlsFor(ns1), name: "ns1"},
		{desc: "--name wins", args: append(tlsFor(ns1), "--name", "edge-ns"), name: "edge-ns"},
		{desc: "a viewer's certificate is refused", args: tlsFor(viewer),
			err: `--tls-cert "` + viewer.Cert + `": the certificate "bob" has role viewer; a DNS server needs OrganizationalUnit dns`},
		{desc: "all three or none", args: []string{"--tls-cert", ns1.Cert},
			err: "--tls-ca, --tls-cert and --tls-key: give all three or none (missing --tls-ca, --tls-key)"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			opts, err := dnsOptions(t, append([]string{"--controller", "127.0.0.1:7400"}, c.args...)...)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("options: %v; want an error containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Feed.TLS == nil || opts.Feed.ServerName != c.name {
				t.Errorf("feed TLS %v, server name %q; want TLS and %q", opts.Feed.TLS != nil, opts.Feed.ServerName, c.name)
			}
		})
	}
}
