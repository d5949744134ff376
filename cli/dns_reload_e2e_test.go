package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

// procLog is a process's output, safe to read while it runs.
type procLog struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *procLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *procLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// awaitLog polls the log every 10 ms until it matches re, for up to
// dnsWait, and returns the first submatch.
func awaitLog(t *testing.T, logs *procLog, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(dnsWait)
	for {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line matching %q after %s:\n%s", re, dnsWait, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDNSReloadsGeoIPOnHangup runs `anyctl dns` as its own process, then
// replaces its GeoIP file (London moved to New York) and sends SIGHUP:
// the answers follow the new database. A file that is no database, with another SIGHUP, keeps the
// database served, and the server says why and keeps answering.
func TestDNSReloadsGeoIPOnHangup(t *testing.T) {
	ctl := controllertest.Start(t)
	applyExampleDeployment(t, ctl)
	geoip := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(geoip, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	cmd, logs, exited := startDNSProcess(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "",
		"--geoip", geoip, "--geoip-reload-interval", "0", "--state-dir", t.TempDir())
	udp := awaitLog(t, logs, regexp.MustCompile(`msg="dns serving" udp=(\S+)`))[1]
	london := func() string {
		c := &dns.Client{Timeout: 5 * time.Second}
		r, _, err := c.Exchange(query("origin.gslb.example.com.", dns.TypeA, "198.18.1.0/24"), udp)
		if err != nil || len(r.Answer) != 1 {
			return ""
		}
		return r.Answer[0].(*dns.A).A.String()
	}
	awaitAnswer := func(want string) {
		t.Helper()
		deadline := time.Now().Add(dnsWait)
		for got := london(); got != want; got = london() {
			if time.Now().After(deadline) {
				t.Fatalf("London gets %q, want %q", got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	awaitAnswer("203.0.113.20") // eu-west, Dublin

	nets := append([]geotest.Network(nil), geotest.Networks...)
	for i := range nets {
		if nets[i].City == "London" {
			nets[i].Country, nets[i].Continent, nets[i].City, nets[i].Latitude, nets[i].Longitude = "US", "NA", "New York", 40.71, -74.01
		}
	}
	if err := geotest.Write(geoip+".new", nets); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(geoip+".new", geoip); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	awaitLog(t, logs, regexp.MustCompile(`dns reloaded the GeoIP database`))
	awaitAnswer("203.0.113.10") // us-east, Ashburn

	if err := os.WriteFile(geoip, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line := awaitLog(t, logs, regexp.MustCompile(`.*dns keeps the GeoIP database it has.*`))[0]
	if !strings.Contains(line, geoip) || !strings.Contains(line, "invalid MaxMind DB file") {
		t.Errorf("the refusal does not name the file and why: %s", line)
	}
	if got := london(); got != "203.0.113.10" {
		t.Errorf("after a bad file: London gets %q, want 203.0.113.10 from the database kept", got)
	}
	select {
	case <-exited:
		t.Fatalf("anyctl dns exited after SIGHUP: %v", cmd.ProcessState)
	default:
	}
}

// startDNSProcess runs `anyctl dns` with args as a process of its own,
// stopped by SIGTERM when the test ends (killed if it has not exited
// within dnsWait), and returns it with its log, which a failed test
// prints, and a channel closed once it has exited.
func startDNSProcess(t *testing.T, args ...string) (*exec.Cmd, *procLog, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"dns"}, args...)...)
	cmd.Env = append(os.Environ(), "ANYCTL_TEST_EXEC=1")
	logs := &procLog{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(dnsWait):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("anyctl dns log:\n%s", logs)
		}
	})
	return cmd, logs, exited
}
