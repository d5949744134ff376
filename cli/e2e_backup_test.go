package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/atomicfile"
	"github.com/anyctl/anyctl/cli"
	"github.com/anyctl/anyctl/controller/controllertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// TestE2EBackupRestore backs up a controller with history and a drain,
// restores into a fresh controller on a fresh embedded etcd, and finds the
// objects with their versions, the history and the drain there; a second
// restore is refused without --force, and damaged files are refused.
func TestE2EBackupRestore(t *testing.T) {
	// Both controllers lead before anything else is written, so that the
	// fresh cluster's own writes (the history floor, the election key) end
	// where the source's did, before the first object's revision.
	src := controllertest.Start(t)
	awaitLeader(t, src)
	mustAnyctl(t, src.Addr, "", "apply", "-f", examplesDir)
	good := listAll(t, src.Admin).GetRevision()
	services := readFile(t, filepath.Join(examplesDir, "services.yaml"))
	mustAnyctl(t, src.Addr, replaceOnce(t, services, "minAnnouncingPops: 2      # health never", "minAnnouncingPops: 3      # health never"), "apply", "-f", "-")
	mustAnyctl(t, src.Addr, "", "delete", "record", "accounts")
	mustAnyctl(t, src.Addr, "", "drain", "pop", "tokyo", "--force")
	// The drain is in the history, naming the Pop; a rollback leaves it be.
	if h := mustAnyctl(t, src.Addr, "", "history", "pop", "tokyo"); !strings.Contains(h.stdout, "drain pop tokyo (forced)  pop/tokyo  drain") {
		t.Errorf("history pop tokyo after a drain:\n%s", h.stdout)
	}

	file := filepath.Join(t.TempDir(), "anyctl.backup")
	out := mustAnyctl(t, src.Addr, "", "backup", "-o", file)
	t.Logf("anyctl backup: %s", out.stdout)
	want := listAll(t, src.Admin)
	if !strings.Contains(out.stdout, fmt.Sprintf("%d objects", len(want.GetObjects()))) || !strings.Contains(out.stdout, "4 history records") {
		t.Errorf("backup printed %q, want %d objects and 4 history records", out.stdout, len(want.GetObjects()))
	}
	wantHist := history(t, src.Admin)

	dst := controllertest.Start(t)
	// The new leader's election key is the one write a fresh controller
	// makes; one that came during the restore would move the revisions.
	awaitLeader(t, dst)
	empty := listAll(t, dst.Admin)
	dry := mustAnyctl(t, dst.Addr, "", "restore", "-f", file, "--dry-run")
	if !strings.Contains(dry.stdout, fmt.Sprintf("would write %d objects", len(want.GetObjects()))) {
		t.Errorf("restore --dry-run printed %q", dry.stdout)
	}
	requireSameState(t, empty, listAll(t, dst.Admin))

	r := mustAnyctl(t, dst.Addr, "", "restore", "-f", file)
	t.Logf("anyctl restore: %s%s", r.stdout, r.stderr)
	if r.stderr != "" {
		t.Errorf("restore into a fresh cluster warned: %s", r.stderr)
	}
	got := listAll(t, dst.Admin)
	if len(got.GetObjects()) != len(want.GetObjects()) {
		t.Fatalf("%d objects restored, want %d", len(got.GetObjects()), len(want.GetObjects()))
	}
	for ref, o := range byRef(want.GetObjects()) {
		if n := byRef(got.GetObjects())[ref]; !proto.Equal(o, n) {
			t.Errorf("%s restored as %v, want %v (versions included)", ref, n, o)
		}
	}
	gotHist := history(t, dst.Admin)
	if len(gotHist) != len(wantHist)+1 || gotHist[0].GetOperation() != "restore" {
		t.Fatalf("restored history has %d records (newest %q), want the %d of the backup and the restore's", len(gotHist), gotHist[0].GetOperation(), len(wantHist))
	}
	for i, e := range wantHist {
		if !proto.Equal(e, gotHist[i+1]) {
			t.Errorf("history record %d restored as\n%v\nwant\n%v", i, gotHist[i+1], e)
		}
	}
	st, err := dst.Admin.Status(context.Background(), &v1.StatusRequest{Pop: "tokyo"})
	if err != nil || len(st.GetPops()) != 1 || st.GetPops()[0].GetDrain().GetStep() == v1.DrainStep_DRAIN_STEP_NONE {
		t.Errorf("tokyo's drain after the restore: %v %v", st, err)
	}

	// The restored history undoes the bad change on the new cluster.
	mustAnyctl(t, dst.Addr, "", "rollback", "--to-revision", strconv.FormatInt(good, 10))
	if _, err := dst.Admin.Get(context.Background(), &v1.GetRequest{Kind: v1.Kind_KIND_GSLB_RECORD, Name: "accounts"}); err != nil {
		t.Errorf("record accounts after rolling back the restored cluster: %v", err)
	}
	if h := history(t, dst.Admin); len(h) != len(gotHist)+1 || h[0].GetOperation() != "rollback" {
		t.Errorf("after a rollback on the restored cluster the newest record is %q of %d, want the rollback's of %d", h[0].GetOperation(), len(h), len(gotHist)+1)
	}

	before := listAll(t, dst.Admin)
	again := anyctl(t, dst.Addr, "", "restore", "-f", file)
	if again.code != cli.ExitFailure || !strings.Contains(again.stderr, fmt.Sprintf("the cluster is not empty: it holds %d objects", len(before.GetObjects()))) ||
		!strings.Contains(again.stderr, "give --force") {
		t.Errorf("restore into a used cluster: exit %d\n%s", again.code, again.stderr)
	}
	requireSameState(t, before, listAll(t, dst.Admin))

	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 1
	for _, bad := range []struct {
		name, content, want string
	}{
		{"flipped", string(flipped), "checksum"},
		{"truncated", string(raw[:len(raw)-10]), "truncated"},
		{"not-a-backup", "apiVersion: anycast.anyctl.io/v1\n", "not this kind of file"},
	} {
		path := filepath.Join(t.TempDir(), bad.name)
		writeFile(t, path, bad.content)
		r := anyctl(t, dst.Addr, "", "restore", "-f", path, "--force")
		if r.code != cli.ExitFailure || !strings.Contains(r.stderr, bad.want) || !strings.Contains(r.stderr, "nothing was sent") {
			t.Errorf("restore of a %s file: exit %d\n%s\nwant %q", bad.name, r.code, r.stderr, bad.want)
		}
	}
	// Well-framed files whose content a restore refuses.
	badObj := &v1.Backup{FormatVersion: 1, Revision: 9, Objects: []*v1.Object{{Resource: &v1.Object_Origin{Origin: &v1.Origin{
		Metadata: &v1.ObjectMeta{Name: "bad", ResourceVersion: 5, CreateRevision: 5},
		Spec:     &v1.OriginSpec{Addresses: []string{"not-an-ip"}, Weight: 1},
	}}}}}
	newer := &v1.Backup{FormatVersion: 2}
	for _, bad := range []struct {
		name string
		b    *v1.Backup
		want string
	}{
		{"invalid-object", badObj, `the backup's objects do not pass validation`},
		{"newer-format", newer, "backup format version 2: this controller reads version 1"},
	} {
		data, err := proto.Marshal(bad.b)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), bad.name)
		if err := atomicfile.WriteFramed(path, "ABAK", data); err != nil {
			t.Fatal(err)
		}
		r := anyctl(t, dst.Addr, "", "restore", "-f", path, "--force")
		if r.code != cli.ExitFailure || !strings.Contains(r.stderr, bad.want) || !strings.Contains(r.stderr, "nothing was written") {
			t.Errorf("restore of a backup with %s: exit %d\n%s\nwant %q", bad.name, r.code, r.stderr, bad.want)
		}
		t.Logf("restore of a backup with %s:\n%s", bad.name, r.stderr)
	}
	requireSameState(t, before, listAll(t, dst.Admin))

	forced := mustAnyctl(t, dst.Addr, "", "restore", "-f", file, "--force")
	if !strings.Contains(forced.stderr, "objects have new versions") {
		t.Errorf("forced restore over a used cluster did not say versions changed: %s", forced.stderr)
	}
	requireEqualObjects(t, want, listAll(t, dst.Admin))
}

// history returns every history record, newest first.
func history(t *testing.T, admin v1.AdminServiceClient) []*v1.HistoryEntry {
	t.Helper()
	resp, err := admin.History(context.Background(), &v1.HistoryRequest{Limit: 10000})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	return resp.GetEntries()
}

// awaitLeader waits until the controller leads, as its metrics say.
func awaitLeader(t *testing.T, c *controllertest.Running) {
	t.Helper()
	url := "http://" + c.Ctrl.MetricsAddr().String() + "/metrics"
	for i := 0; i < 600; i++ {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "\nanyctl_controller_leader 1\n") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("controller at %s not leading after 30 s", c.Addr)
}
