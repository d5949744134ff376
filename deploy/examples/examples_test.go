package examples

import (
	"testing"

	"github.com/anyctl/anyctl/manifest"
	"github.com/anyctl/anyctl/validation"
)

// TestExamplesPassValidation runs the validation the controller runs at its
// door over the whole example deployment, as one apply into an empty store.
func TestExamplesPassValidation(t *testing.T) {
	objs, err := manifest.LoadFS(FS)
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	if len(objs) == 0 {
		t.Fatal("the example deployment holds no objects")
	}
	opts := validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()}
	if err := validation.CheckApply(objs, nil, opts); err != nil {
		t.Errorf("the examples fail validation:\n%v", err)
	}
}
