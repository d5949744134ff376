package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveServer(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flagFile := write("flag.yaml", "server: flagfile.example:7400\n")
	envFile := write("env.yaml", "# comment\nserver: envfile.example:7400\n")
	home := filepath.Join(dir, "home")
	write("home/.config/anyctl/config.yaml", "server: home.example:7400\n")
	xdg := filepath.Join(dir, "xdg")
	write("xdg/anyctl/config.yaml", "server: xdg.example:7400\n")
	emptyHome := filepath.Join(dir, "empty-home")
	write("emptyserver.yaml", "server: \"\"\n")
	write("blank.yaml", "")
	write("typo.yaml", "sever: x.example:7400\n")
	write("list.yaml", "- server\n")
	write("badaddr.yaml", "server: controller.example\n")

	tests := []struct {
		name       string
		flag       string
		configFlag string
		env        map[string]string
		home       string
		want       serverChoice
		wantErr    string
		wantUsage  bool
	}{
		{name: "flag wins", flag: "flag.example:1", configFlag: flagFile, env: map[string]string{envServer: "env.example:2"}, home: home,
			want: serverChoice{"flag.example:1", "--server"}},
		{name: "env before config", configFlag: flagFile, env: map[string]string{envServer: "env.example:2"}, home: home,
			want: serverChoice{"env.example:2", "$ANYCTL_SERVER"}},
		{name: "config flag before env config", configFlag: flagFile, env: map[string]string{envConfig: envFile}, home: home,
			want: serverChoice{"flagfile.example:7400", "config file " + flagFile}},
		{name: "env config before home", env: map[string]string{envConfig: envFile}, home: home,
			want: serverChoice{"envfile.example:7400", "config file " + envFile}},
		{name: "home config", home: home,
			want: serverChoice{"home.example:7400", "config file " + filepath.Join(home, ".config", "anyctl", "config.yaml")}},
		{name: "XDG config home", env: map[string]string{"XDG_CONFIG_HOME": xdg}, home: home,
			want: serverChoice{"xdg.example:7400", "config file " + filepath.Join(xdg, "anyctl", "config.yaml")}},
		{name: "default without a config file", home: emptyHome,
			want: serverChoice{DefaultServer, "default"}},
		{name: "default when the config names no server", configFlag: filepath.Join(dir, "emptyserver.yaml"), home: home,
			want: serverChoice{DefaultServer, "default"}},
		{name: "default for an empty config file", configFlag: filepath.Join(dir, "blank.yaml"), home: home,
			want: serverChoice{DefaultServer, "default"}},
		{name: "IPv6 flag", flag: "[2001:db8::1]:7400", home: emptyHome,
			want: serverChoice{"[2001:db8::1]:7400", "--server"}},
		{name: "a named config file must exist", configFlag: filepath.Join(dir, "missing.yaml"), home: home,
			wantErr: "client config: open " + filepath.Join(dir, "missing.yaml") + ": no such file or directory"},
		{name: "unknown config key", configFlag: filepath.Join(dir, "typo.yaml"), home: home,
			wantErr: "client config " + filepath.Join(dir, "typo.yaml") + `:1: unknown field "sever": want server, tlsCa, tlsCert, tlsKey or tlsServerName`},
		{name: "config not a mapping", configFlag: filepath.Join(dir, "list.yaml"), home: home,
			wantErr: "client config " + filepath.Join(dir, "list.yaml") + `:1: want a mapping such as "server: host:port"`},
		{name: "bad address in config", configFlag: filepath.Join(dir, "badaddr.yaml"), home: home,
			wantErr: `server address "controller.example" (from config file ` + filepath.Join(dir, "badaddr.yaml") + `): want host:port: address controller.example: missing port in address`},
		{name: "bad flag is a usage error", flag: "controller.example", home: home,
			wantErr: `--server "controller.example": want host:port: address controller.example: missing port in address`, wantUsage: true},
		{name: "empty host", flag: ":7400", home: home,
			wantErr: `--server ":7400": want host:port with both parts`, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := clientEnv{
				getenv:  func(k string) string { return tt.env[k] },
				homeDir: func() (string, error) { return tt.home, nil },
			}
			got, err := resolveServer(tt.flag, tt.configFlag, env)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("resolveServer error = %v\nwant %s", err, tt.wantErr)
				}
				if isUsage := errors.As(err, new(usageError)); isUsage != tt.wantUsage {
					t.Errorf("resolveServer error is a usage error: %v, want %v", isUsage, tt.wantUsage)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveServer: %v", err)
			}
			if got != tt.want {
				t.Errorf("resolveServer = %+v, want %+v", got, tt.want)
			}
		})
	}
}
