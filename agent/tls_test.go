package agent_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// tlsPop is a PoP with no BGP peers: enough for an agent to get a config.
const tlsPop = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata:
  name: tokyo
spec:
  location: {latitude: 35.68, longitude: 139.65, country: JP, continent: AS}
  localAsn: 64512
  routerId: 203.0.113.133
`

// agentTLSFiles are an agent's TLS files with a certificate for name with
// role.
func agentTLSFiles(t *testing.T, ca *authntest.CA, name string, role authn.Role) agent.TLSFiles {
	t.Helper()
	p := ca.Client(t, name, role)
	return agent.TLSFiles{CA: ca.CertFile, Cert: p.Cert, Key: p.Key}
}

// tlsControllerWithPop starts a controller that speaks mutual TLS with
// certificates of a new CA, and applies the tokyo PoP (tlsPop) through an
// admin's client.
func tlsControllerWithPop(t *testing.T) (*authntest.CA, *controllertest.Running) {
	t.Helper()
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	ctl := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
	})
	objs, err := manifest.Decode(strings.NewReader(tlsPop), "tokyo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(ctl.Addr, grpc.WithTransportCredentials(credentials.NewTLS(ca.ClientTLS(t, "alice", authn.RoleAdmin))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := v1.NewAdminServiceClient(conn).Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return ca, ctl
}

func TestTLSAgentConnectsAndReceivesItsConfig(t *testing.T) {
	ca, ctl := tlsControllerWithPop(t)

	a, err := agent.New(agent.Config{
		Pop:         "tokyo",
		Controller:  ctl.Addr,
		StateDir:    t.TempDir(),
		Origination: agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24"}},
		TLS:         agentTLSFiles(t, ca, "tokyo", authn.RoleAgent),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("agent stopped with: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !a.ControllerConnected() {
		if time.Now().After(deadline) {
			t.Fatal("the agent did not connect over mutual TLS within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTLSAgentConfigChecksItsCertificate(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	missing := filepath.Join(t.TempDir(), "agent.pem")
	good := agentTLSFiles(t, ca, "tokyo", authn.RoleAgent)
	for _, c := range []struct {
		desc string
		tls  agent.TLSFiles
		err  string
	}{
		{desc: "tokyo's agent certificate", tls: good},
		{desc: "plain text", tls: agent.TLSFiles{}},
		{desc: "another PoP's certificate", tls: agentTLSFiles(t, ca, "london", authn.RoleAgent),
			err: `the certificate is for "london" with role agent; the agent of PoP "tokyo" needs one for "tokyo" with role agent`},
		{desc: "a viewer's certificate", tls: agentTLSFiles(t, ca, "tokyo", authn.RoleViewer),
			err: `the certificate is for "tokyo" with role viewer`},
		{desc: "missing certificate file", tls: agent.TLSFiles{CA: good.CA, Cert: missing, Key: good.Key},
			err: `tls.cert (--tls-cert) "` + missing + `": open ` + missing + ": no such file or directory"},
		{desc: "no CA", tls: agent.TLSFiles{Cert: good.Cert, Key: good.Key},
			err: "give all three or none (missing tls.ca (--tls-ca))"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			cfg := agent.Config{Pop: "tokyo", Controller: "127.0.0.1:7400", StateDir: t.TempDir(),
				Origination: agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24"}}, TLS: c.tls}
			_, err := cfg.Validate()
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("Validate: %v; want an error containing %q", err, c.err)
			}
		})
	}
}

func TestTLSAgentConfigFileSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.yaml")
	yaml := `pop: tokyo
controller: unix:/run/anyctl/controller.sock
stateDir: /var/lib/anyctl/agent
origination: {allowedPrefixes: [192.0.2.0/24]}
tls:
  ca: /etc/anyctl/ca.pem
  cert: /etc/anyctl/tokyo.pem
  key: /etc/anyctl/tokyo-key.pem
  serverName: controller.example.net
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := agent.LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := agent.TLSFiles{CA: "/etc/anyctl/ca.pem", Cert: "/etc/anyctl/tokyo.pem", Key: "/etc/anyctl/tokyo-key.pem", ServerName: "controller.example.net"}
	if cfg.TLS != want {
		t.Errorf("tls = %+v, want %+v", cfg.TLS, want)
	}
}
