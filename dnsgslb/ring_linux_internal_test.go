//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// ringServer serves r with a ring worker of a test server on its own
// locked thread, as a blocking socket's serve does, until the returned
// stop is called; stop returns the ring once the worker is done.
func ringServer(t *testing.T, r *rawUDP) (stop func() *ring) {
	t.Helper()
	if err := ringSupported(); err != nil {
		t.Skipf("io_uring: %v", err)
	}
	s := testResponderWith(t, Config{}).s
	w := s.newWorker()
	var halt atomic.Bool
	made := make(chan *ring, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		u, err := newRing(r.fd, false, r.wake)
		if err != nil {
			made <- nil
			done <- err
			return
		}
		made <- u
		done <- s.serveRing(u, w, &halt)
	}()
	u := <-made
	if u == nil {
		t.Fatalf("a ring: %v", <-done)
	}
	return func() *ring {
		halt.Store(true)
		r.interrupt()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ring worker: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the ring worker did not stop within 30 s of being told to")
		}
		return u
	}
}

// forceBuffers gives a socket room for n datagrams each way.
func forceBuffers(t *testing.T, fd, n int) {
	t.Helper()
	for _, opt := range []int{unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, n*2048); err != nil {
			t.Skipf("socket buffers for %d datagrams: %v", n, err)
		}
	}
}

// query is a DNS query with the ID id.
func query(t *testing.T, id uint16) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("nearest.gslb.example.com.", dns.TypeA)
	m.Id = id
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRingTakesABurst queues more queries than a ring lends the kernel
// buffers for before the worker starts: the kernel ends the multishot
// receive when the buffers run out, the worker lends them back and
// rearms it, and every query is answered once.
func TestRingTakesABurst(t *testing.T) {
	const n = 3 * ringRecvBufs
	r, err := listenRawUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	forceBuffers(t, r.fd, n)
	client, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	rc, err := client.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { forceBuffers(t, int(fd), n) })
	for id := range n {
		if _, err := client.WriteToUDP(query(t, uint16(id)), r.addr); err != nil {
			t.Fatal(err)
		}
	}
	if queued, err := unix.IoctlGetInt(r.fd, unix.SIOCINQ); err != nil || queued == 0 {
		t.Fatalf("queries queued: %d (%v)", queued, err)
	}

	stop := ringServer(t, r)
	seen := make([]bool, n)
	buf := make([]byte, 4096)
	for got := 0; got < n; got++ {
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		k, err := client.Read(buf)
		if err != nil {
			t.Fatalf("after %d of %d replies: %v", got, n, err)
		}
		var m dns.Msg
		if err := m.Unpack(buf[:k]); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
			t.Fatalf("reply %d: rcode %d, %d answers (%v)", got, m.Rcode, len(m.Answer), err)
		}
		if seen[m.Id] {
			t.Fatalf("query %d answered twice", m.Id)
		}
		seen[m.Id] = true
	}
	u := stop()
	if u.rearms == 0 {
		t.Errorf("the receive was never rearmed: %d queries fit %d buffers", n, ringRecvBufs)
	}
}

// TestRingSendBufferFull answers from a ring whose socket's send buffer is
// full, replies held in a qdisc as behind a slow link: the kernel keeps
// the replies it cannot send yet and sends them once the link moves, every
// one whole, and stopping the worker cancels the replies still waiting
// rather than waiting for the link.
func TestRingSendBufferFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("needs tc (iproute2)")
	}
	const queries = 24

	// Everything that names the namespace runs on this locked thread.
	calls := make(chan func())
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for f := range calls {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("a network namespace: %v", err)
	}
	defer close(calls)
	in := func(f func()) {
		done := make(chan struct{})
		calls <- func() { defer close(done); f() }
		<-done
	}
	tc := func(args ...string) {
		t.Helper()
		var out []byte
		var err error
		in(func() { out, err = exec.Command(args[0], args[1:]...).CombinedOutput() })
		if err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	tc("ip", "link", "set", "lo", "up")
	var r *rawUDP
	var client *net.UDPConn
	var err error
	in(func() {
		if r, err = listenRawUDP("127.0.0.1:0"); err != nil {
			return
		}
		client, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer client.Close()
	// The smallest send buffer the kernel allows: a few replies fill it.
	if err := unix.SetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1); err != nil {
		t.Fatal(err)
	}
	stop := ringServer(t, r)
	var arrived atomic.Int32
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := client.Read(buf)
			if err != nil {
				return
			}
			var m dns.Msg
			if m.Unpack(buf[:n]) == nil && len(m.Answer) > 0 {
				arrived.Add(1)
			}
		}
	}()
	// ask sends queries numbered from first and waits until the socket's
	// send buffer is full.
	ask := func(first int) {
		t.Helper()
		for id := first; id < first+queries; id++ {
			if _, err := client.WriteToUDP(query(t, uint16(id)), r.addr); err != nil {
				t.Fatal(err)
			}
		}
		for deadline := time.Now().Add(10 * time.Second); ; {
			queued, err := unix.IoctlGetInt(r.fd, unix.SIOCOUTQ)
			if err != nil {
				t.Fatal(err)
			}
			if sndbuf, _ := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_SNDBUF); queued >= sndbuf/2 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the send buffer never filled: %d bytes queued, %d replies arrived", queued, arrived.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// After the first few, a datagram leaves loopback every few seconds.
	tc("tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "400bit", "burst", "1600", "limit", "1000000")
	ask(0)
	if got := arrived.Load(); got >= queries {
		t.Fatalf("every reply arrived while the link held them (%d)", got)
	}
	// The link moves: every reply arrives.
	tc("tc", "qdisc", "change", "dev", "lo", "root", "tbf", "rate", "1gbit", "burst", "1000000", "limit", "1000000")
	if _, err := client.WriteToUDP([]byte{0}, client.LocalAddr().(*net.UDPAddr)); err != nil { // dequeue now
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); arrived.Load() < queries; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d replies arrived after the link moved", arrived.Load(), queries)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Stopping the worker while replies wait for room cancels them: the
	// link would take minutes.
	tc("tc", "qdisc", "change", "dev", "lo", "root", "tbf", "rate", "400bit", "burst", "1600", "limit", "1000000")
	ask(queries)
	u := stop()
	if u.sending != 0 || u.armed {
		t.Errorf("after the stop, %d sends and the receive (%v) are still in the kernel", u.sending, u.armed)
	}
}
