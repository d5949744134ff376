package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/cli"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// bigOriginYAML is an Origin document named name whose description pads
// it to about pad bytes.
func bigOriginYAML(name string, pad int) string {
	return fmt.Sprintf(`---
apiVersion: anycast.anyctl.io/v1
kind: Origin
metadata:
  name: %s
  description: "%s"
spec:
  location: {latitude: 1, longitude: 2, country: US, continent: NA, region: americas}
  addresses: [203.0.113.77]
  weight: 1
`, name, strings.Repeat("x", pad))
}

// TestE2EGetReadsWhatWasWritten writes origins that, together, are larger
// than one gRPC message (4 MiB), in applies each under the limit: get must
// list every one of them.
func TestE2EGetReadsWhatWasWritten(t *testing.T) {
	c := startWithExamples(t)
	const batches, perBatch, pad = 3, 20, 100_000 // 6 MB in all
	for b := range batches {
		var docs strings.Builder
		for i := range perBatch {
			docs.WriteString(bigOriginYAML(fmt.Sprintf("big-%d-%d", b, i), pad))
		}
		objs, err := manifest.Decode(strings.NewReader(docs.String()), "big.yaml")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		_, err = c.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
		cancel()
		if err != nil {
			t.Fatalf("apply batch %d: %v", b, err)
		}
	}
	r := anyctl(t, c.Addr, "", "get", "origins", "-o", "name")
	if r.code != cli.ExitOK {
		t.Fatalf("get origins: exit %d: %.300s", r.code, r.stderr)
	}
	names := strings.Fields(r.stdout)
	big := 0
	for _, n := range names {
		if strings.HasPrefix(n, "origin/big-") {
			big++
		}
	}
	t.Logf("get origins -o name: %d names, %d big", len(names), big)
	if big != batches*perBatch {
		t.Errorf("get origins listed %d big origins, want %d", big, batches*perBatch)
	}
}
