package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/cli"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
)

// startTLSController runs a controller requiring client certificates of ca.
func startTLSController(t *testing.T, ca *authntest.CA) *controllertest.Running {
	t.Helper()
	server := ca.ServerFiles(t)
	return controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
	})
}

// tlsArgs are the client flags presenting a certificate for name with role.
func tlsArgs(t *testing.T, ca *authntest.CA, name string, role authn.Role) []string {
	t.Helper()
	f := ca.ClientFiles(t, name, role)
	return []string{"--tls-ca", f.CA, "--tls-cert", f.Cert, "--tls-key", f.Key}
}

func TestTLSClientCommandsByRole(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	ctl := startTLSController(t, ca)
	admin := tlsArgs(t, ca, "alice", authn.RoleAdmin)
	viewer := tlsArgs(t, ca, "bob", authn.RoleViewer)
	stranger := tlsArgs(t, authntest.NewCA(t, "stranger"), "mallory", authn.RoleAdmin)
	stranger[1] = ca.CertFile // trusts the controller; its own certificate is the stranger's
	mustAnyctl(t, ctl.Addr, "", slices.Concat(admin, []string{"apply", "-f", examplesDir})...)

	for _, c := range []struct {
		desc   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{desc: "admin gets pops", args: slices.Concat(admin, []string{"get", "pops"}), stdout: "tokyo"},
		{desc: "viewer gets pops", args: slices.Concat(viewer, []string{"get", "pops"}), stdout: "london"},
		{desc: "viewer may not apply", args: slices.Concat(viewer, []string{"apply", "-f", examplesDir}), code: cli.ExitFailure,
			stderr: `anyctl: /anycast.v1.AdminService/Apply: caller "bob" has role viewer; this method needs role admin`},
		{desc: "viewer may not drain", args: slices.Concat(viewer, []string{"drain", "pop", "tokyo"}), code: cli.ExitFailure,
			stderr: `caller "bob" has role viewer; this method needs role admin`},
		{desc: "viewer reads the history, which names the writer", args: slices.Concat(viewer, []string{"history"}), stdout: "alice (admin)"},
		{desc: "viewer may not roll back", args: slices.Concat(viewer, []string{"rollback", "--to-revision", "1"}), code: cli.ExitFailure,
			stderr: `caller "bob" has role viewer; this method needs role admin`},
		{desc: "admin explains from the GSLB feed", args: slices.Concat(admin, []string{"explain", "origin.gslb.example.com", "--client", "198.51.100.0/24"}),
			stdout: "Answer"},
		{desc: "viewer explains from the GSLB feed", args: slices.Concat(viewer, []string{"explain", "origin.gslb.example.com", "--client", "198.51.100.0/24"}),
			stdout: "Answer"},
		{desc: "without a certificate there is no connection", args: []string{"get", "pops"}, code: cli.ExitFailure,
			stderr: "does the controller require TLS? Give --tls-ca, --tls-cert and --tls-key"},
		{desc: "a certificate of another CA is refused", args: slices.Concat(stranger, []string{"get", "pops"}), code: cli.ExitFailure,
			stderr: "; is it running, did --tls-ca sign its certificate, and did its --tls-client-ca sign --tls-cert?"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			r := anyctl(t, ctl.Addr, "", c.args...)
			if r.code != c.code || !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) {
				t.Fatalf("anyctl %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q",
					strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.code, c.stdout, c.stderr)
			}
		})
	}
}

// TestTLSSettingsFromEnvironmentAndConfigFile: each file may come from its
// flag, its environment variable or the config file.
func TestTLSSettingsFromEnvironmentAndConfigFile(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	ctl := startTLSController(t, ca)
	f := ca.ClientFiles(t, "alice", authn.RoleAdmin)
	configFile := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(configFile, []byte("tlsCa: "+f.CA+"\ntlsCert: "+f.Cert+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ANYCTL_TLS_KEY", f.Key)
	t.Setenv("ANYCTL_CONFIG", "")
	mustAnyctl(t, ctl.Addr, "", "--config-file", configFile, "get", "pops")

	missing := filepath.Join(t.TempDir(), "alice.pem")
	badConfig := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(badConfig, []byte("tlsCa: "+f.CA+"\ntlsCert: "+missing+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		desc string
		env  string // $ANYCTL_TLS_KEY
		args []string
		want string
	}{
		{desc: "flag", env: f.Key, args: []string{"--config-file", configFile, "--tls-cert", missing},
			want: `--tls-cert "` + missing + `": open ` + missing + ": no such file or directory"},
		{desc: "environment", env: missing, args: []string{"--config-file", configFile},
			want: `$ANYCTL_TLS_KEY "` + missing + `": open `},
		{desc: "config file", env: f.Key, args: []string{"--config-file", badConfig},
			want: `tlsCert in config file ` + badConfig + ` "` + missing + `": open `},
		{desc: "all three or none", args: []string{"--tls-ca", f.CA},
			want: "--tls-ca, --tls-cert and --tls-key: give all three or none (missing --tls-cert, --tls-key)"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			t.Setenv("ANYCTL_TLS_KEY", c.env)
			r := anyctl(t, ctl.Addr, "", append(c.args, "get", "pops")...)
			if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "anyctl: "+c.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d with %q", r.code, r.stderr, cli.ExitUsage, c.want)
			}
		})
	}
}

// TestTLSOverUnixSocket: over a unix: socket the controller's certificate
// is checked for localhost, or for --tls-server-name.
func TestTLSOverUnixSocket(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	sock := "unix:" + filepath.Join(t.TempDir(), "controller.sock")
	ctl := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.Listen = sock
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
	})
	admin := tlsArgs(t, ca, "alice", authn.RoleAdmin)
	mustAnyctl(t, ctl.Addr, "", slices.Concat(admin, []string{"get", "pops"})...)
	r := anyctl(t, ctl.Addr, "", slices.Concat(admin, []string{"--tls-server-name", "controller.example.net", "get", "pops"})...)
	if want := "certificate is valid for localhost, not controller.example.net"; r.code != cli.ExitFailure || !strings.Contains(r.stderr, want) {
		t.Errorf("--tls-server-name naming another host: exit %d, stderr:\n%s\nwant exit %d with %q", r.code, r.stderr, cli.ExitFailure, want)
	}
}
