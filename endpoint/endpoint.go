// Package endpoint parses and listens on the addresses anyctl's gRPC and
// metrics servers use: "host:port" for TCP, or "unix:PATH" for a Unix
// socket (which a client in another network namespace can still reach).
package endpoint

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

const unixPrefix = "unix:"

// Check reports whether addr is "host:port" or "unix:PATH".
func Check(addr string) error {
	if path, ok := strings.CutPrefix(addr, unixPrefix); ok {
		if strings.TrimPrefix(path, "//") == "" {
			return errors.New("want unix:PATH with a path")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("want host:port or unix:PATH: %w", err)
	}
	return nil
}

// Listen listens on addr. A Unix socket left behind by a previous run is
// removed first.
func Listen(addr string) (net.Listener, error) {
	if err := Check(addr); err != nil {
		return nil, err
	}
	if path, ok := strings.CutPrefix(addr, unixPrefix); ok {
		path = strings.TrimPrefix(path, "//")
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(path)
		}
		return net.Listen("unix", path)
	}
	return net.Listen("tcp", addr)
}

// String renders a listener's address so that clients can dial it: the
// form Listen takes, and gRPC's target syntax accepts.
func String(a net.Addr) string {
	if a.Network() == "unix" {
		return unixPrefix + a.String()
	}
	return a.String()
}
