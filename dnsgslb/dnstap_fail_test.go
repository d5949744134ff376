package dnsgslb_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// awaitMetric polls the server's metric name until ok says so.
func awaitMetric(t *testing.T, s *dnsgslb.Server, name string, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := gather(t, s)[name]
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v", name, v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDnstapFileWriteError: a write to the file fails (here it reaches
// the process's file size limit, as a full disk would). What the file
// holds stays there: it is not opened again, which would truncate it, and
// the queries after are counted as not logged.
func TestDnstapFileWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queries.dnstap")
	ts, stop := runUntil(t, newTapServer(t, dnsgslb.DnstapConfig{Output: path}))
	first := ts.ask(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London))
	awaitMetric(t, ts.Server, "anyctl_dns_dnstap_messages_total{}", func(v float64) bool { return v == 2 })
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	// Go ignores SIGXFSZ: a write past the limit fails with EFBIG.
	limit := syscall.Rlimit{Cur: uint64(fi.Size()) + 8192, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
		}
	}
	t.Cleanup(restore)
	for range 300 {
		ts.exchange(t, "udp", msg(t, "www.gslb.example.com.", dns.TypeA, ""))
	}
	awaitMetric(t, ts.Server, "anyctl_dns_dnstap_errors_total{}", func(v float64) bool { return v >= 1 })
	restore()
	for range 50 {
		ts.exchange(t, "udp", msg(t, "www.gslb.example.com.", dns.TypeA, ""))
	}
	stop()
	if dropped := gather(t, ts.Server)["anyctl_dns_dnstap_dropped_total{}"]; dropped < 50 {
		t.Errorf("%v queries counted as not logged after the write error, want at least the 50 after it", dropped)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := dnstap.NewReader(f, nil)
	if err != nil {
		t.Fatalf("the file is no longer a dnstap stream: %v", err)
	}
	buf := make([]byte, 1<<16)
	n, err := r.ReadFrame(buf)
	if err != nil {
		t.Fatal(err)
	}
	var m dnstap.Dnstap
	if err := proto.Unmarshal(buf[:n], &m); err != nil {
		t.Fatal(err)
	}
	var q dns.Msg
	if err := q.Unpack(m.GetMessage().GetQueryMessage()); err != nil {
		t.Fatal(err)
	}
	if q.Id != first.q.Id || q.Question[0].Name != "nearest.gslb.example.com." {
		t.Errorf("the file starts with query %d %v, want the first logged, %d %v: it was truncated", q.Id, q.Question, first.q.Id, first.q.Question)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() > int64(limit.Cur) {
		t.Errorf("the file grew past the write error to %d bytes (%v)", fi.Size(), err)
	}
	// Every message counted as written is in the file: the ones still
	// buffered when the write failed are not counted.
	frames := 1
	for {
		if _, err := r.ReadFrame(buf); err != nil {
			break
		}
		frames++
	}
	if sent := gather(t, ts.Server)["anyctl_dns_dnstap_messages_total{}"]; sent > float64(frames) {
		t.Errorf("messages_total %v, but the file holds %d messages", sent, frames)
	}
}
