package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/anyctl/anyctl/endpoint"
)

// Environment variables the client commands read.
const (
	envServer = "ANYCTL_SERVER"
	envConfig = "ANYCTL_CONFIG"
)

// serverChoice is the controller address the client commands use and what
// chose it, for error messages.
type serverChoice struct {
	addr string
	from string // "--server", "$ANYCTL_SERVER", "config file PATH", "default"
}

// clientEnv is what resolveServer reads besides the flags: the environment
// and the user's home, both injectable for tests.
type clientEnv struct {
	getenv  func(string) string
	homeDir func() (string, error)
}

func osClientEnv() clientEnv { return clientEnv{getenv: os.Getenv, homeDir: os.UserHomeDir} }

// resolveServer picks the controller address: --server, then
// $ANYCTL_SERVER, then the config file's server, then DefaultServer. The
// config file is --config-file, then $ANYCTL_CONFIG, then
// $XDG_CONFIG_HOME/anyctl/config.yaml (~/.config/anyctl/config.yaml); only
// the last may be missing.
func resolveServer(serverFlag, configFlag string, env clientEnv) (serverChoice, error) {
	if serverFlag != "" {
		if err := checkServerAddr(serverFlag); err != nil {
			return serverChoice{}, UsageErrorf("--server %q: %w", serverFlag, err)
		}
		return serverChoice{addr: serverFlag, from: "--server"}, nil
	}
	choice, err := serverFromEnvOrConfig(configFlag, env)
	if err != nil {
		return serverChoice{}, err
	}
	if err := checkServerAddr(choice.addr); err != nil {
		return serverChoice{}, fmt.Errorf("server address %q (from %s): %w", choice.addr, choice.from, err)
	}
	return choice, nil
}

func serverFromEnvOrConfig(configFlag string, env clientEnv) (serverChoice, error) {
	if s := env.getenv(envServer); s != "" {
		return serverChoice{addr: s, from: "$" + envServer}, nil
	}
	cfg, path, err := loadClientConfig(configFlag, env)
	switch {
	case err != nil:
		return serverChoice{}, err
	case cfg.server == "":
		return serverChoice{addr: DefaultServer, from: "default"}, nil
	}
	return serverChoice{addr: cfg.server, from: "config file " + path}, nil
}

// loadClientConfig reads the client config file: --config-file, then
// $ANYCTL_CONFIG, then $XDG_CONFIG_HOME/anyctl/config.yaml
// (~/.config/anyctl/config.yaml). Only the last may be missing; then the
// config is empty and path is "".
func loadClientConfig(configFlag string, env clientEnv) (cfg clientConfig, path string, err error) {
	path, explicit := configFlag, true
	if path == "" {
		path = env.getenv(envConfig)
	}
	if path == "" {
		explicit = false
		if path, err = defaultConfigPath(env); err != nil {
			return clientConfig{}, "", nil
		}
	}
	cfg, err = readClientConfig(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return clientConfig{}, "", nil
	case err != nil:
		return clientConfig{}, "", err
	}
	return cfg, path, nil
}

func defaultConfigPath(env clientEnv) (string, error) {
	if dir := env.getenv("XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "anyctl", "config.yaml"), nil
	}
	home, err := env.homeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".config", "anyctl", "config.yaml"), nil
}

// checkServerAddr accepts host:port.
func checkServerAddr(addr string) error {
	if strings.HasPrefix(addr, "unix:") {
		return endpoint.Check(addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if host == "" || port == "" {
		return errors.New("want host:port with both parts")
	}
	return nil
}

// clientConfig is the client's config file:
//
//	server: controller.example.net:7400
//	tlsCa: /etc/anyctl/ca.pem       # the CA that signed the controller's certificate
//	tlsCert: ~/.config/anyctl/me.pem # this client's certificate and key
//	tlsKey: ~/.config/anyctl/me-key.pem
//	tlsServerName: controller.example.net # for a unix: server
type clientConfig struct {
	server                                string
	tlsCA, tlsCert, tlsKey, tlsServerName string
}

// clientConfigKeys are the config file's keys, for errors.
const clientConfigKeys = "server, tlsCa, tlsCert, tlsKey or tlsServerName"

// readClientConfig reads a config file strictly: an unknown key is an error,
// so that a typo does not silently fall back to the default server.
func readClientConfig(path string) (clientConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return clientConfig{}, fmt.Errorf("client config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return clientConfig{}, nil
		}
		return clientConfig{}, fmt.Errorf("client config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return clientConfig{}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return clientConfig{}, fmt.Errorf("client config %s:%d: want a mapping such as \"server: host:port\"", path, root.Line)
	}
	var cfg clientConfig
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var field *string
		want := "a file name"
		switch k.Value {
		case "server":
			field, want = &cfg.server, "host:port"
		case "tlsCa":
			field = &cfg.tlsCA
		case "tlsCert":
			field = &cfg.tlsCert
		case "tlsKey":
			field = &cfg.tlsKey
		case "tlsServerName":
			field, want = &cfg.tlsServerName, "a host name"
		default:
			return clientConfig{}, fmt.Errorf("client config %s:%d: unknown field %q: want %s", path, k.Line, k.Value, clientConfigKeys)
		}
		if v.Kind != yaml.ScalarNode {
			return clientConfig{}, fmt.Errorf("client config %s:%d: %s: want %s", path, v.Line, k.Value, want)
		}
		*field = v.Value
	}
	return cfg, nil
}
