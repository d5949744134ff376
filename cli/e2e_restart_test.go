package cli_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller/controllertest"
)

// TestE2ERestartKeepsObjectsAndVersions stops a controller and starts
// another on the same data: every object comes back as it was, with the
// resource version and create revision it had, and re-applying the same
// manifests changes nothing.
func TestE2ERestartKeepsObjectsAndVersions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "controller")
	first := controllertest.StartAt(t, dir, nil)
	mustAnyctl(t, first.Addr, "", "apply", "-f", examplesDir)
	// A second write, so that versions differ between objects.
	services := readFile(t, filepath.Join(examplesDir, "services.yaml"))
	mustAnyctl(t, first.Addr, replaceOnce(t, services, "med: 50", "med: 60"), "apply", "-f", "-")
	before := listAll(t, first.Admin)
	first.Stop(t)

	second := controllertest.StartAt(t, dir, nil)
	after := listAll(t, second.Admin)
	if len(after.GetObjects()) != len(exampleObjects) {
		t.Errorf("%d objects after the restart, want %d", len(after.GetObjects()), len(exampleObjects))
	}
	if after.GetRevision() < before.GetRevision() {
		t.Errorf("revision went back from %d to %d", before.GetRevision(), after.GetRevision())
	}
	// The store revision may move forward on start (a controller that
	// campaigns for leadership writes keys of its own); the objects may not.
	after.Revision = before.GetRevision()
	requireSameState(t, before, after)

	again := mustAnyctl(t, second.Addr, "", "apply", "-f", examplesDir)
	want := suffixed(exampleObjects, " unchanged")
	want[slices.Index(exampleObjects, "anycastservice/edge-http")] = "anycastservice/edge-http configured"
	if got := nonEmptyLines(again.stdout); !slices.Equal(got, want) {
		t.Errorf("re-applying the examples after the restart printed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
