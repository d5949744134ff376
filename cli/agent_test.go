package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/pflag"
)

// TestAgentFlagsMerge lays command lines over config files: a flag given
// wins, a flag left out leaves the file's setting, and the flags with
// defaults fill what the file leaves empty.
func TestAgentFlagsMerge(t *testing.T) {
	defaults := agent.Config{Controller: DefaultServer, StateDir: "/var/lib/anyctl/agent", MetricsListen: "127.0.0.1:7402"}
	file := agent.Config{
		Pop:             "tokyo",
		Controller:      "10.0.0.1:7400",
		StateDir:        "/srv/agent",
		MetricsListen:   "127.0.0.1:9000",
		Origination:     agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24"}, AllowLongPrefixes: true, MaxPrefixesPerPeer: 10},
		Secrets:         map[string]string{"upstream": "s3cret"},
		ShutdownGrace:   agent.Duration(2 * time.Second),
		GracefulRestart: agent.GracefulRestart{Enabled: true, RestartTime: agent.Duration(90 * time.Second)},
		BGPListenPort:   1179,
		StatusInterval:  agent.Duration(time.Second),
		TLS:             agent.TLSFiles{CA: "/etc/ca.pem", Cert: "/etc/tokyo.pem", Key: "/etc/tokyo-key.pem", ServerName: "ctl"},
	}
	with := func(c agent.Config, change func(*agent.Config)) agent.Config {
		c.Origination.AllowedPrefixes = append([]string(nil), c.Origination.AllowedPrefixes...)
		change(&c)
		return c
	}
	tests := []struct {
		name string
		file agent.Config
		args []string
		want agent.Config
	}{
		{"no file, no flags: the flag defaults", agent.Config{}, nil, defaults},
		{"no file: the flags", agent.Config{},
			[]string{"--pop", "osaka", "--controller", "unix:/run/anyctl.sock", "--state-dir", "/tmp/a", "--metrics-listen", "",
				"--allowed-prefixes", "192.0.2.0/24,2001:db8::/32", "--shutdown-grace", "10s", "--graceful-restart",
				"--tls-ca", "ca.pem", "--tls-cert", "osaka.pem", "--tls-key", "osaka-key.pem", "--tls-server-name", "controller"},
			agent.Config{Pop: "osaka", Controller: "unix:/run/anyctl.sock", StateDir: "/tmp/a",
				Origination:     agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24", "2001:db8::/32"}},
				ShutdownGrace:   agent.Duration(10 * time.Second),
				GracefulRestart: agent.GracefulRestart{Enabled: true},
				TLS:             agent.TLSFiles{CA: "ca.pem", Cert: "osaka.pem", Key: "osaka-key.pem", ServerName: "controller"}}},
		{"a file, no flags: the file whole", file, nil, file},
		{"a file and every flag: the flags win, the settings without one stay", file,
			[]string{"--pop", "osaka", "--controller", "10.0.0.2:7400", "--state-dir", "/tmp/a", "--metrics-listen", "",
				"--allowed-prefixes", "198.51.100.0/24", "--shutdown-grace", "0s", "--graceful-restart=false",
				"--tls-ca", "ca.pem", "--tls-cert", "osaka.pem", "--tls-key", "osaka-key.pem", "--tls-server-name", "controller"},
			with(file, func(c *agent.Config) {
				c.Pop, c.Controller, c.StateDir, c.MetricsListen = "osaka", "10.0.0.2:7400", "/tmp/a", ""
				c.Origination.AllowedPrefixes = []string{"198.51.100.0/24"}
				c.ShutdownGrace = 0
				c.GracefulRestart.Enabled = false
				c.TLS = agent.TLSFiles{CA: "ca.pem", Cert: "osaka.pem", Key: "osaka-key.pem", ServerName: "controller"}
			})},
		{"a file leaving out what has flag defaults: the defaults fill it", agent.Config{Pop: "tokyo"}, nil,
			with(defaults, func(c *agent.Config) { c.Pop = "tokyo" })},
		{"one TLS flag replaces its setting only", file, []string{"--tls-cert", "new.pem"},
			with(file, func(c *agent.Config) { c.TLS.Cert = "new.pem" })},
		{"a flag given its default value still wins", file, []string{"--controller", DefaultServer},
			with(file, func(c *agent.Config) { c.Controller = DefaultServer })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
			var f agentFlags
			f.register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("parsing %s: %v", strings.Join(tt.args, " "), err)
			}
			got := f.merge(tt.file, fs.Changed)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(agent.Config{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("merged config (-want +got):\n%s", diff)
			}
		})
	}
}
