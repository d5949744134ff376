package examples

import (
	"io/fs"
	"testing"

	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

// TestExamplesPassValidation applies the validation the controller applies
// at its door to the whole example deployment, as one apply into an empty
// store.
func TestExamplesPassValidation(t *testing.T) {
	names, err := fs.Glob(Files, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no example files embedded")
	}
	var objs []*v1.Object
	for _, name := range names {
		f, err := Files.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := manifest.Decode(f, name)
		f.Close()
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		objs = append(objs, got...)
	}
	opts := validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()}
	if err := validation.CheckApply(objs, nil, opts); err != nil {
		t.Errorf("the examples fail validation:\n%v", err)
	}
}
