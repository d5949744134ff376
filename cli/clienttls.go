package cli

import (
	"crypto/tls"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/authn"
)

// Environment variables for the client commands' TLS, one per flag.
const (
	envTLSCA         = "ANYCTL_TLS_CA"
	envTLSCert       = "ANYCTL_TLS_CERT"
	envTLSKey        = "ANYCTL_TLS_KEY"
	envTLSServerName = "ANYCTL_TLS_SERVER_NAME"
)

// tlsFlags are the client-side TLS flags: of the client commands (global),
// of `anyctl agent` and of `anyctl dns`.
type tlsFlags struct {
	ca, cert, key, serverName string
}

// register adds --tls-ca, --tls-cert, --tls-key and --tls-server-name for
// a client of the controller at the address flag addrFlag gives; certHelp
// says what certificate --tls-cert takes. fallback says the client
// commands read unset flags from the environment and the config file.
func (f *tlsFlags) register(fs *pflag.FlagSet, addrFlag, certHelp string, fallback bool) {
	or := func(env, key string) string {
		if !fallback {
			return ""
		}
		return fmt.Sprintf(" (default: $%s, then %s: in the config file)", env, key)
	}
	fs.StringVar(&f.ca, "tls-ca", "", "CA certificate (PEM) that signed the controller's; with --tls-cert and --tls-key, speak mutual TLS"+or(envTLSCA, "tlsCa"))
	fs.StringVar(&f.cert, "tls-cert", "", certHelp+or(envTLSCert, "tlsCert"))
	fs.StringVar(&f.key, "tls-key", "", "client private key (PEM)"+or(envTLSKey, "tlsKey"))
	help := "name the controller's certificate must carry (default: the host of " + addrFlag + ", localhost for unix:PATH)"
	if fallback {
		help = fmt.Sprintf("name the controller's certificate must carry (default: $%s, then tlsServerName: in the config file, then the host of %s, localhost for unix:PATH)", envTLSServerName, addrFlag)
	}
	fs.StringVar(&f.serverName, "tls-server-name", "", help)
}

// files are the flags' files, named by the flags.
func (f *tlsFlags) files() authn.Files {
	return authn.Files{CA: f.ca, Cert: f.cert, Key: f.key, Names: authn.ClientFlags}
}

// setting is one TLS setting's value and where it came from, for errors.
type setting struct{ value, from string }

// pick is the flag when given, else the environment variable, else the
// config file's key.
func pick(flagName, flagValue, envName string, env clientEnv, key, fileValue, path string) setting {
	if flagValue != "" {
		return setting{flagValue, flagName}
	}
	if v := env.getenv(envName); v != "" {
		return setting{v, "$" + envName}
	}
	if fileValue != "" {
		return setting{fileValue, key + " in config file " + path}
	}
	return setting{}
}

// resolveClientTLS is the client commands' TLS config for the controller
// at server, nil for plain text. Each file comes from its flag, then its
// environment variable, then the config file; all three or none.
func resolveClientTLS(g *globals, server serverChoice, env clientEnv) (*tls.Config, error) {
	file, path, err := loadClientConfig(g.configFile, env)
	if err != nil {
		return nil, err
	}
	ca := pick("--tls-ca", g.tls.ca, envTLSCA, env, "tlsCa", file.tlsCA, path)
	cert := pick("--tls-cert", g.tls.cert, envTLSCert, env, "tlsCert", file.tlsCert, path)
	key := pick("--tls-key", g.tls.key, envTLSKey, env, "tlsKey", file.tlsKey, path)
	name := pick("--tls-server-name", g.tls.serverName, envTLSServerName, env, "tlsServerName", file.tlsServerName, path)
	files := authn.Files{
		CA: ca.value, Cert: cert.value, Key: key.value,
		Names: authn.Names{CA: orFlag(ca.from, "--tls-ca"), Cert: orFlag(cert.from, "--tls-cert"), Key: orFlag(key.from, "--tls-key")},
	}
	if !files.Enabled() {
		return nil, nil
	}
	cfg, err := authn.ClientConfig(files, authn.ServerName(server.addr, name.value))
	if err != nil {
		return nil, UsageErrorf("%w", err)
	}
	return cfg, nil
}

// orFlag names an unset setting by its flag.
func orFlag(from, flag string) string {
	if from == "" {
		return flag
	}
	return from
}
