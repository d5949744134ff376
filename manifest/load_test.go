package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/anyctl/anyctl/resource"
)

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	doc := func(kind, name string) string {
		return "apiVersion: anycast.anyctl.io/v1\nkind: " + kind + "\nmetadata: {name: " + name + "}\n---\n"
	}
	write("set/b.yaml", doc("Pop", "b1")+doc("Pop", "b2"))
	write("set/a.yml", doc("Origin", "a1"))
	write("set/c.json", `{"apiVersion": "anycast.anyctl.io/v1", "kind": "GslbZone", "metadata": {"name": "c1"}}`)
	write("set/README.md", "not a manifest")
	write("set/sub/d.yaml", doc("Pop", "ignored"))
	single := write("single.yaml", doc("Origin", "s1"))
	write("dup.yaml", doc("Pop", "b2"))
	write("broken.yaml", doc("Pop", "x")+"kind: [\n")
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		paths   []string
		stdin   string
		want    []string
		wantErr string
	}{
		{name: "directory in name order, not recursing", paths: []string{filepath.Join(dir, "set")},
			want: []string{"Origin/a1", "Pop/b1", "Pop/b2", "GslbZone/c1"}},
		{name: "files, directories and stdin in order", paths: []string{single, "-", filepath.Join(dir, "set", "c.json")}, stdin: doc("Pop", "in"),
			want: []string{"Origin/s1", "Pop/in", "GslbZone/c1"}},
		{name: "declared in two files", paths: []string{filepath.Join(dir, "set"), filepath.Join(dir, "dup.yaml")},
			wantErr: filepath.Join(dir, "dup.yaml") + `:1: document 1 (Pop "b2"): declared again: first declared in ` + filepath.Join(dir, "set", "b.yaml") + " document 2"},
		{name: "missing file", paths: []string{filepath.Join(dir, "nope.yaml")},
			wantErr: "stat " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
		{name: "directory without manifests", paths: []string{empty},
			wantErr: `directory "` + empty + `" holds no .yaml, .yml or .json files`},
		{name: "stdin twice", paths: []string{"-", "-"}, stdin: doc("Pop", "in"),
			wantErr: `"-" (stdin) given more than once`},
		{name: "every broken input is reported", paths: []string{filepath.Join(dir, "broken.yaml"), "-"}, stdin: "kind: Pop\n",
			wantErr: filepath.Join(dir, "broken.yaml") + ":5: document 2: did not find expected node content\n" +
				`<stdin>:1: document 1: apiVersion: required: want "anycast.anyctl.io/v1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := LoadPaths(tt.paths, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("LoadPaths error = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadPaths: %v", err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, resource.KindName(resource.KindOf(o))+"/"+resource.Meta(o).GetName())
			}
			if !equalLines(got, tt.want) {
				t.Errorf("LoadPaths = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadFS(t *testing.T) {
	doc := func(kind, name string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("apiVersion: anycast.anyctl.io/v1\nkind: " + kind + "\nmetadata: {name: " + name + "}\n")}
	}
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		wantErr string
	}{
		{name: "root files in name order", fsys: fstest.MapFS{
			"b.yaml": doc("Pop", "b"), "a.json": doc("Origin", "a"), "notes.txt": doc("Pop", "no"), "sub/c.yaml": doc("Pop", "no"),
		}, want: []string{"Origin/a", "Pop/b"}},
		{name: "declared twice", fsys: fstest.MapFS{"a.yaml": doc("Pop", "a"), "b.yml": doc("Pop", "a")},
			wantErr: `b.yml:1: document 1 (Pop "a"): declared again: first declared in a.yaml document 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := LoadFS(tt.fsys)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("LoadFS error = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadFS: %v", err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, resource.KindName(resource.KindOf(o))+"/"+resource.Meta(o).GetName())
			}
			if !equalLines(got, tt.want) {
				t.Errorf("LoadFS = %q, want %q", got, tt.want)
			}
		})
	}
}
