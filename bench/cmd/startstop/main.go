//go:build linux

// Command startstop times how an `anyctl dns` binary starts from a state
// directory and how fast it stops when signalled during a start: the
// first answer after a restart whose GeoIP file changed since the state
// was persisted, and the exit after SIGTERM while a start must read the
// database and build a prefix table (the table file removed). Each
// binary is run in turn, round after round, so that binaries compared
// share the machine's state.
//
//	go run ./bench/cmd/dnsscale -library=false -load-qps 0 -geoip-reload=false -keep-state /tmp/state
//	go run ./bench/cmd/startstop -state /tmp/state /tmp/anyctl-before /tmp/anyctl
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/bench/gslbscale"
)

type options struct {
	state, db, name string
	rounds          int
	signalAt        []time.Duration
	timeout         time.Duration
}

func main() {
	var o options
	var at string
	db, _ := gslbscale.GeoDBPath(3_000_000, 100_000, 1) // what dnsscale generates by default
	flag.StringVar(&o.state, "state", "", "state directory persisted by a server (dnsscale -keep-state): gslb-snapshot.pb and gslb-table.bin (required)")
	flag.StringVar(&o.db, "db", db, "GeoIP database; each start gets a copy of it, so another modification time: another database to the server than the one its table was built from")
	flag.StringVar(&o.name, "name", "svc00001.scale.example.com.", "name queried (A) for the first answer")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every binary once per measurement")
	flag.StringVar(&at, "sigterm-at", "1s,2.2s,2.6s,3s", "times after the start to send SIGTERM, comma-separated")
	flag.DurationVar(&o.timeout, "timeout", time.Minute, "give up on a start or a stop after this long")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: startstop -state DIR [flags] ANYCTL...\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	for _, s := range strings.Split(at, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintf(os.Stderr, "startstop: -sigterm-at %q: %v\n", at, err)
			os.Exit(2)
		}
		o.signalAt = append(o.signalAt, d)
	}
	if o.state == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "startstop:", err)
		os.Exit(1)
	}
}

func run(o options, bins []string) error {
	work, err := os.MkdirTemp("", "startstop-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for round := 1; round <= o.rounds; round++ {
		for _, bin := range bins {
			t, err := firstAnswer(o, bin, work)
			if err != nil {
				return fmt.Errorf("%s: %w", bin, err)
			}
			fmt.Printf("round %d %s: restart after the GeoIP file changed: first answer %s after the start\n", round, bin, ms(t))
		}
		for _, d := range o.signalAt {
			for _, bin := range bins {
				t, err := stopDuring(o, bin, work, d)
				if err != nil {
					return fmt.Errorf("%s: %w", bin, err)
				}
				fmt.Printf("round %d %s: SIGTERM %s after a start without its table: exited %s later\n", round, bin, d, ms(t))
			}
		}
	}
	return nil
}

// prepare copies the persisted state and the database into a fresh
// directory under work, and returns the server's command line.
func prepare(o options, bin, work string, table bool) (*exec.Cmd, string, error) {
	dir, err := os.MkdirTemp(work, "run-")
	if err != nil {
		return nil, "", err
	}
	files := []string{"gslb-snapshot.pb"}
	if table {
		files = append(files, "gslb-table.bin")
	}
	for _, f := range files {
		if err := gslbscale.CopyFile(filepath.Join(o.state, f), filepath.Join(dir, f)); err != nil {
			return nil, "", err
		}
	}
	db := filepath.Join(dir, "city.mmdb")
	if err := gslbscale.CopyFile(o.db, db); err != nil {
		return nil, "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "dns", "--listen", addr, "--geoip", db, "--state-dir", dir,
		"--controller", "127.0.0.1:1", "--default-location", "39,-77,US,NA", "--geoip-reload-interval", "0", "--metrics-listen", "")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, addr, nil
}

// firstAnswer starts bin from the state with its table and a changed
// GeoIP file, and times its first NOERROR answer to a UDP query.
func firstAnswer(o options, bin, work string) (time.Duration, error) {
	cmd, addr, err := prepare(o, bin, work, true)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer stop(cmd)
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(o.name), dns.TypeA)
	m.RecursionDesired = false
	c := &dns.Client{Timeout: 20 * time.Millisecond}
	for time.Since(start) < o.timeout {
		r, _, err := c.Exchange(m, addr)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return time.Since(start), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("no answer from %s within %s", addr, o.timeout)
}

// stopDuring starts bin from the state without its table, sends SIGTERM
// after d and times the exit.
func stopDuring(o options, bin, work string, d time.Duration) (time.Duration, error) {
	cmd, _, err := prepare(o, bin, work, false)
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return 0, fmt.Errorf("exited before the signal: %v", err)
	case <-time.After(d):
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return 0, err
		}
		return time.Since(sent), nil
	case <-time.After(o.timeout):
		cmd.Process.Kill()
		<-exited
		return 0, fmt.Errorf("still running %s after SIGTERM", o.timeout)
	}
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// freeAddr is a loopback address with a port free for UDP and TCP now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return "", err
	}
	u.Close()
	return l.Addr().String(), nil
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
