//go:build linux && (amd64 || arm64)

package dnsgslb

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// TestBlockingSendBufferFull sends replies from a blocking worker's socket
// whose send buffer is full, replies held in a qdisc as behind a slow link:
// while the worker waits for room, a garbage collection's stop-the-world
// goes on without it (the wait is an ordinary system call, not a raw one),
// once the link moves every reply arrives, whole and in order, and
// stopping the server wakes a worker waiting for room.
func TestBlockingSendBufferFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("needs tc (iproute2)")
	}
	const size = 200
	// Batches of 8: a worker blocked in a raw sendmmsg would come back
	// after its batch, minutes later, and the test fails then.
	const per, replies = 8, 64

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
	// The smallest send buffer the kernel allows: a few datagrams fill it.
	if err := unix.SetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1); err != nil {
		t.Fatal(err)
	}

	// After the first few, a datagram leaves loopback every 5 s: the
	// send buffer fills and stays full.
	tc("tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "400bit", "burst", "1600", "limit", "1000000")

	// The client counts the replies and checks each as it arrives.
	var arrived atomic.Int32
	bad := make(chan string, 1)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := client.Read(buf)
			if err != nil {
				return
			}
			got := int(arrived.Load())
			if n == 1 {
				continue // the kick below
			}
			if n != size || buf[0] != byte(got/per) || buf[1] != byte(got%per) {
				bad <- fmt.Sprintf("reply %d: %d bytes starting %x, want %d bytes starting %02x%02x", got, n, buf[:2], size, got/per, got%per)
				return
			}
			arrived.Add(1)
		}
	}()

	w := &udpWorker{}
	dst := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: [4]byte{127, 0, 0, 1}}
	port := client.LocalAddr().(*net.UDPAddr).Port
	p := (*[2]byte)(unsafe.Pointer(&dst.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	for i := range batch {
		w.siov[i].Base = &w.out[i][0]
		w.siov[i].SetLen(size)
		w.smsgs[i].hdr.Iov = &w.siov[i]
		w.smsgs[i].hdr.Iovlen = 1
		w.smsgs[i].hdr.Name = (*byte)(unsafe.Pointer(&dst))
		w.smsgs[i].hdr.Namelen = unix.SizeofSockaddrInet4
	}
	// send sends replies from a worker's thread, numbered from first.
	send := func(first int) chan struct{} {
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for b := first / per; b < (first+replies)/per; b++ {
				for i := range per {
					w.out[i][0], w.out[i][1] = byte(b), byte(i)
				}
				w.toSend = per
				w.sendReplies(uintptr(r.fd))
			}
		}()
		return sent
	}
	// full waits until the send buffer is full and the worker waits for
	// room.
	full := func(sent chan struct{}) {
		t.Helper()
		for {
			queued, err := unix.IoctlGetInt(r.fd, unix.SIOCOUTQ)
			if err != nil {
				t.Fatal(err)
			}
			if sndbuf, _ := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_SNDBUF); queued >= sndbuf/2 {
				return
			}
			select {
			case <-sent:
				t.Fatal("every reply was sent at once: the send buffer never filled")
			case <-time.After(10 * time.Millisecond):
			}
		}
	}

	sent := send(0)
	full(sent)
	// A collection now stops the world at once. Were the worker blocked
	// in a raw system call, the stop-the-world would wait until the
	// link let a datagram go, 5 s later.
	before := arrived.Load()
	runtime.GC()
	if after := arrived.Load(); after != before {
		t.Fatalf("the garbage collection waited for the worker blocked in a full send buffer: %d replies left meanwhile", after-before)
	}
	select {
	case <-sent:
		t.Fatal("every reply was sent while the link held them")
	default:
	}

	// The link moves: every reply arrives, in order, whole.
	tc("tc", "qdisc", "change", "dev", "lo", "root", "tbf", "rate", "1gbit", "burst", "1000000", "limit", "1000000")
	if _, err := client.WriteToUDP([]byte{0}, client.LocalAddr().(*net.UDPAddr)); err != nil { // dequeue now
		t.Fatal(err)
	}
	<-sent
	for arrived.Load() < replies {
		select {
		case msg := <-bad:
			t.Fatal(msg)
		case <-time.After(10 * time.Millisecond):
		}
	}

	// Stopping the server wakes a worker waiting for room: the rest of
	// its batch is dropped.
	tc("tc", "qdisc", "change", "dev", "lo", "root", "tbf", "rate", "400bit", "burst", "1600", "limit", "1000000")
	sent = send(replies)
	full(sent)
	r.interrupt()
	select {
	case <-sent:
	case <-time.After(time.Minute): // the link lets a datagram go every 5 s
		t.Fatal("the worker still waits for room after the socket was shut down")
	}
}

// TestNetpollerSendFailureFirstInBatch: in netpoller mode a reply whose
// sendmmsg fails at once (here EINVAL: the query came from source port 0)
// is skipped and the rest of the batch sent at once. Waiting for the
// socket to report room instead would hold them until the next datagram
// arrives: nothing was queued, so nothing reports it.
func TestNetpollerSendFailureFirstInBatch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a raw socket")
	}
	r := testResponderWith(t, Config{RRL: &RRLConfig{}})
	s := r.s
	sock, err := listenUDP(context.Background(), "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	conn := sock.(pollSocket).UDPConn
	port := conn.LocalAddr().(*net.UDPAddr).Port

	q := packed(t, "www.gslb.example.com.", dns.TypeA, "")
	// 1. The same query from source port 0, through a raw socket.
	raw, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(raw)
	udp := make([]byte, 8+len(q))
	binary.BigEndian.PutUint16(udp[0:], 0) // source port 0
	binary.BigEndian.PutUint16(udp[2:], uint16(port))
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	copy(udp[8:], q)
	if err := unix.Sendto(raw, udp, 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	// 2. Two ordinary queries, queued in the same socket before the
	// worker starts, so that one recvmmsg reads all three.
	client, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for i := range 2 {
		binary.BigEndian.PutUint16(q, uint16(100+i))
		if _, err := client.Write(q); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // let loopback deliver them (setup only)

	w := s.newWorker()
	done := make(chan struct{})
	go func() { defer close(done); s.serveUDP(conn, w) }()
	defer func() { conn.Close(); <-done }()

	buf := make([]byte, 2048)
	client.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := client.Read(buf)
	if err != nil {
		// One more datagram wakes the worker: the held replies leave.
		binary.BigEndian.PutUint16(q, 200)
		client.Write(q)
		client.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err2 := client.Read(buf)
		t.Fatalf("no reply to the ordinary queries within 2 s (worker parked in rc.Write after the failed send): %v; after one more query: err %v", err, err2)
	}
	t.Logf("reply of %d bytes, ID %d", n, binary.BigEndian.Uint16(buf))
}
