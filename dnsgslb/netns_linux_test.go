package dnsgslb_test

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// isolatedNet is a network namespace of its own (root only): loopback and
// the addresses the test puts on it, no route anywhere else, so that a
// tool run in it (dnsviz) reaches only the servers the test forwards to,
// and never a name server on the Internet. It lives on one locked OS
// thread, which ends with the test and takes the namespace with it.
type isolatedNet struct {
	calls chan func()
}

// newIsolatedNet makes the namespace with loopback up and addrs (IPv4 or
// IPv6, without a prefix length) on it.
func newIsolatedNet(t *testing.T, addrs ...string) *isolatedNet {
	t.Helper()
	n := &isolatedNet{calls: make(chan func())}
	ready := make(chan error, 1)
	go func() {
		// The thread is never unlocked: the runtime ends it, namespace
		// and all, when this goroutine returns.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		// A child process inherits the namespace of the thread that
		// started it.
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			ready <- errors.New("ip link set lo up: " + err.Error() + ": " + string(out))
			return
		}
		for _, a := range addrs {
			args := []string{"addr", "add", a + "/32", "dev", "lo"}
			if net.ParseIP(a).To4() == nil {
				// Usable at once, not tentative until duplicate
				// address detection is done.
				args = []string{"addr", "add", a + "/128", "dev", "lo", "nodad"}
			}
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				ready <- errors.New("ip addr add " + a + ": " + err.Error() + ": " + string(out))
				return
			}
		}
		ready <- nil
		for f := range n.calls {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("a network namespace for the test: %v", err)
	}
	t.Cleanup(func() { close(n.calls) })
	return n
}

// do runs f in the namespace: sockets it opens and processes it starts are
// in the namespace.
func (n *isolatedNet) do(f func()) {
	done := make(chan struct{})
	n.calls <- func() { defer close(done); f() }
	<-done
}

// command runs a command in the namespace and returns its combined output.
func (n *isolatedNet) command(name string, args ...string) ([]byte, error) {
	var out []byte
	var err error
	n.do(func() { out, err = exec.Command(name, args...).CombinedOutput() })
	return out, err
}

// forward listens on addr ("host:port") in the namespace, UDP and TCP, and
// passes each query to a server outside it (udp and tcp, "host:port"), and
// its reply back unchanged, or through change when it is not nil (UDP
// only), until stop is called or the test ends.
func (n *isolatedNet) forward(t *testing.T, addr, udp, tcp string, change func([]byte) []byte) (stop func()) {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	var err error
	n.do(func() {
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			return
		}
		l, err = net.Listen("tcp", addr)
	})
	if err != nil {
		t.Fatalf("listening on %s in the test's network namespace: %v", addr, err)
	}
	var wg sync.WaitGroup
	stop = sync.OnceFunc(func() {
		pc.Close()
		l.Close()
		wg.Wait()
	})
	t.Cleanup(stop)
	wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			nr, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := append([]byte(nil), buf[:nr]...)
			wg.Go(func() {
				reply, err := exchangeUDP(udp, q)
				if err != nil {
					return
				}
				if change != nil {
					reply = change(reply)
				}
				pc.WriteTo(reply, from)
			})
		}
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				up, err := net.Dial("tcp", tcp)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, up)
			})
		}
	})
	return stop
}

// needRoot skips a test that needs a network namespace of its own.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: " + why + " runs in a network namespace of its own, which needs root")
	}
}
