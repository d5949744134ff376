package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// largeReport is a PoP's report with two sessions and one prefix and check
// per service, every prefix announced.
func largeReport(pop string, services int) *v1.PopStatus {
	st := &v1.PopStatus{Pop: pop, ConfigRevision: 2, AgentVersion: "test", ReportedAt: timestamppb.Now()}
	for i := range 2 {
		st.Peers = append(st.Peers, &v1.PeerStatus{Address: fmt.Sprintf("192.0.2.%d", i+1), PeerAsn: 64500, State: "established", PrefixesSent: uint32(services)})
	}
	for i := range services {
		svc := fmt.Sprintf("svc-%05d", i)
		st.Prefixes = append(st.Prefixes, &v1.PrefixStatus{Prefix: fmt.Sprintf("2001:db8:%x::/48", i), Service: svc, Announced: true,
			Mode: v1.AnnounceMode_ANNOUNCE_MODE_NORMAL, Reason: "health check up", Communities: []string{"64500:100"}})
		st.Checks = append(st.Checks, &v1.CheckStatus{Service: svc, Healthy: true, LastResult: "ok", Streak: 40, LastDuration: durationpb.New(time.Millisecond)})
	}
	return st
}

// TestStatusAtThreeThousandPopsAndHundredServices runs status against a
// controller on real etcd holding 3,000 PoPs and 100 services, each PoP's
// report (100 prefixes and checks) written through the store under a replica lease:
// the summary is small and names the PoPs with problems, and --pops pages
// through every PoP. A single answer holding every report would be about
// 50 MB, far over the 4 MiB a client takes.
func TestStatusAtThreeThousandPopsAndHundredServices(t *testing.T) {
	if testing.Short() {
		t.Skip("large fleet")
	}
	const pops, services = 3000, 100
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	c := controllertest.StartAt(t, "", func(cfg *controller.Config) {
		cfg.EtcdEndpoints = srv.Endpoints()
		cfg.StatusTTL = time.Hour // reports written here have no agent to keep them alive
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var objs []*v1.Object
	for i := range pops {
		objs = append(objs, resource.Wrap(validationtest.Pop(i)))
	}
	for i := range services {
		objs = append(objs, resource.Wrap(validationtest.Service(i)))
	}
	if _, err := c.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}

	// Reports: 10 PoPs have none, 20 a session down, 30 a prefix withdrawn.
	// Written through the store as the controller writes them, all under
	// one replica lease, 16 at a time.
	st, err := store.Dial(ctx, store.DialConfig{Endpoints: srv.Endpoints()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var wg sync.WaitGroup
	errs := make(chan error, pops)
	sem := make(chan struct{}, 16)
	lease := st.ReplicaLease(time.Hour)
	t.Cleanup(lease.Close)
	for i := 10; i < pops; i++ {
		r := largeReport(validationtest.PopName(i), services)
		switch {
		case i < 30:
			r.Peers[1].State, r.Peers[1].LastProblem = "active", "connect: connection refused"
		case i < 60:
			r.Prefixes[7].Announced, r.Prefixes[7].Reason = false, "health check down: connect: connection refused"
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := st.StatusSession(r.GetPop(), lease, time.Hour, nil).Put(ctx, r); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var out run
	deadline := time.Now().Add(time.Minute)
	for {
		out = mustAnyctl(t, c.Addr, "", "status")
		if strings.Contains(out.stdout, "2990 reporting") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("anyctl status (%d bytes), first lines:\n%s", len(out.stdout), firstLines(out.stdout, 12))
	for _, want := range []string{
		"PoPs:          3000 (serving 3000), 2990 reporting\n",
		"BGP sessions:  5960/5980 established\n",
		"Prefixes:      298970/299000 announced\n",
		"Problems:      60 PoP(s)",
		"  pop-00000  no report\n",
		"  pop-00010  1 of 2 BGP sessions not established\n",
		"  pop-00030  1 of 100 prefixes not announced (health check down: connect: connection refused)\n",
		"\nsvc-00000  2990        2    -\n",
		"\nsvc-00007  2960        0    -\n", // 30 PoPs withdrew its prefix
	} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("anyctl status lacks %q", want)
		}
	}

	resp, err := c.Admin.Status(ctx, &v1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := proto.Size(resp); n > 256<<10 {
		t.Errorf("the summary is %d bytes, want it small", n)
	}
	if got := resp.GetServices()[7].GetAnnouncingPops(); got != 2960 {
		t.Errorf("svc-00007 announced at %d PoPs, want 2960", got)
	}

	// Every PoP, page by page, in name order, no page over 2 MiB.
	seen, pages := 0, 0
	req := &v1.StatusRequest{Pops: true}
	for {
		page, err := c.Admin.Status(ctx, req)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if n := proto.Size(page); n > 3<<20 {
			t.Errorf("page %d is %d bytes", pages, n)
		}
		for _, e := range page.GetPops() {
			if want := validationtest.PopName(seen); e.GetPop() != want {
				t.Fatalf("entry %d is %s, want %s", seen, e.GetPop(), want)
			}
			seen++
		}
		if page.GetNextPageToken() == "" {
			break
		}
		req.PageToken = page.GetNextPageToken()
	}
	if seen != pops || pages < 2 {
		t.Errorf("paging saw %d PoPs in %d pages, want %d in more than one", seen, pages, pops)
	}
	t.Logf("%d PoPs in %d pages", seen, pages)

	all := mustAnyctl(t, c.Addr, "", "status", "--pops")
	lines := strings.Split(strings.TrimSpace(all.stdout), "\n")
	rows := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "pop-") {
			rows++
		}
	}
	if rows != pops {
		t.Errorf("anyctl status --pops printed %d PoP lines, want %d", rows, pops)
	}
	if !strings.Contains(all.stdout, "pop-00000  serving  -        -         -          -         -       no report\n") {
		t.Errorf("anyctl status --pops: pop-00000 line wrong:\n%s", firstLines(all.stdout, 3))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
