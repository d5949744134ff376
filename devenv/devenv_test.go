package devenv

import (
	"context"
	"sync"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/miekg/dns"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// runEnv runs the environment on free ports until the test ends and
// returns what it reports once ready.
func runEnv(t *testing.T, dataDir string) (Info, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	infos := make(chan Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{DataDir: dataDir, Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", DNSListen: "127.0.0.1:0"}, func(i Info) { infos <- i })
	}()
	var info Info
	select {
	case info = <-infos:
	case err := <-done:
		cancel()
		t.Fatalf("dev environment stopped before it was ready: %v", err)
	case <-time.After(time.Minute):
		cancel()
		t.Fatal("dev environment not ready within a minute")
	}
	var once sync.Once
	stop := func() { once.Do(func() { stopEnv(t, cancel, done) }) }
	t.Cleanup(stop)
	return info, stop
}

func stopEnv(t *testing.T, cancel context.CancelFunc, done chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dev environment stopped with: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("dev environment did not stop within 30s")
	}
}

// awaitAllAnnouncing waits until every PoP reports all its prefixes
// announced over an established session.
func awaitAllAnnouncing(t *testing.T, controller string, since time.Time) *v1.StatusResponse {
	t.Helper()
	conn, err := grpc.NewClient(controller, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	admin := v1.NewAdminServiceClient(conn)
	deadline := time.Now().Add(45 * time.Second)
	for {
		resp, err := admin.Status(context.Background(), &v1.StatusRequest{Pops: true})
		if err == nil && allAnnouncing(resp, since) {
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every PoP healthy and announcing after 45s: %v (err %v)", resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allAnnouncing: every PoP's report, made after since, shows an established
// session and every prefix announced.
func allAnnouncing(resp *v1.StatusResponse, since time.Time) bool {
	if len(resp.GetPops()) != 4 {
		return false
	}
	for _, e := range resp.GetPops() {
		st := e.GetStatus()
		if st == nil || st.GetReportedAt().AsTime().Before(since) || len(st.GetPeers()) != 1 || st.GetPeers()[0].GetState() != "established" || len(st.GetPrefixes()) == 0 {
			return false
		}
		for _, p := range st.GetPrefixes() {
			if !p.GetAnnounced() {
				return false
			}
		}
	}
	return true
}

func TestDevEnvironmentComesUpHealthyAndRestarts(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	info, stop := runEnv(t, dir)
	if len(info.Pops) != 4 {
		t.Fatalf("PoPs %v, want the four example PoPs", info.Pops)
	}
	resp := awaitAllAnnouncing(t, info.Controller, start)
	for _, b := range resp.GetServices() {
		t.Logf("%s announced by %v", b.GetService(), b.GetAnnouncing())
	}
	// The router holds every example prefix: 192.0.2.0/24 and
	// 198.51.100.0/24, 2001:db8:53::/48 and 2001:db8:80::/48.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		v4, v6, err := info.Routes(context.Background())
		if err == nil && v4 == 2 && v6 == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("router holds %d IPv4 and %d IPv6 prefixes (err %v), want 2 and 2", v4, v6, err)
		}
	}

	// The DNS server answers the example zone from the controller's feed.
	m := new(dns.Msg)
	m.SetQuestion("origin.gslb.example.com.", dns.TypeA)
	var in *dns.Msg
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for {
		in, _, err = new(dns.Client).Exchange(m, info.DNS)
		if err == nil && in.Rcode == dns.RcodeSuccess && len(in.Answer) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer for origin.gslb.example.com. A from %s: %v %v", info.DNS, in, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("DNS answer: %v", in.Answer[0])

	// A second run on the same state comes up the same way.
	stop()
	restart := time.Now()
	info, _ = runEnv(t, dir)
	awaitAllAnnouncing(t, info.Controller, restart)
}
