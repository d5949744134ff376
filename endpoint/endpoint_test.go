package endpoint

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		addr, err string
	}{
		{"127.0.0.1:7400", ""},
		{"[::1]:7400", ""},
		{"unix:/run/anyctl.sock", ""},
		{"unix:", "want unix:PATH with a path"},
		{"localhost", "want host:port or unix:PATH"},
	} {
		err := Check(c.addr)
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Check(%q) = %v, want %q", c.addr, err, c.err)
		}
	}
}

func TestListenUnixReplacesStaleSocket(t *testing.T) {
	addr := "unix:" + filepath.Join(t.TempDir(), "ctl.sock")
	for range 2 {
		l, err := Listen(addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(l.Addr()); got != addr {
			t.Errorf("String = %q, want %q", got, addr)
		}
		// Leave the socket file behind, as a killed process does.
		if ul, ok := l.(interface{ SetUnlinkOnClose(bool) }); ok {
			ul.SetUnlinkOnClose(false)
		}
		l.Close()
	}
}
