package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// StdinSource is how errors name standard input.
const StdinSource = "<stdin>"

// extensions are the file names LoadPaths reads from a directory.
var extensions = []string{".yaml", ".yml", ".json"}

// LoadPaths decodes the objects of every path in order: a file, a directory
// (its *.yaml, *.yml and *.json files in name order, not recursing) or "-"
// for stdin. An object declared twice across the inputs is an error.
func LoadPaths(paths []string, stdin io.Reader) ([]*v1.Object, error) {
	var (
		all       []decoded
		errs      errorList
		readStdin bool
	)
	load := func(r io.Reader, source string) {
		ds, err := decode(r, source)
		if err != nil {
			errs.add(err)
			return
		}
		all = append(all, ds...)
	}
	for _, p := range paths {
		if p == "-" {
			if readStdin {
				errs.add(errors.New(`"-" (stdin) given more than once`))
				continue
			}
			readStdin = true
			load(stdin, StdinSource)
			continue
		}
		files, err := expandPath(p)
		if err != nil {
			errs.add(err)
			continue
		}
		for _, f := range files {
			if err := loadFile(f, load); err != nil {
				errs.add(err)
			}
		}
	}
	checkDuplicates(all, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return objectsOf(all), nil
}

// LoadFS decodes the objects of every *.yaml, *.yml and *.json file at the
// root of fsys, in name order, as LoadPaths does for a directory. It serves
// embedded manifests such as the example deployment.
func LoadFS(fsys fs.FS) ([]*v1.Object, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var (
		all  []decoded
		errs errorList
	)
	for _, e := range entries {
		if e.IsDir() || !slices.Contains(extensions, filepath.Ext(e.Name())) {
			continue
		}
		f, err := fsys.Open(e.Name())
		if err != nil {
			errs.add(err)
			continue
		}
		ds, err := decode(f, e.Name())
		f.Close()
		if err != nil {
			errs.add(err)
			continue
		}
		all = append(all, ds...)
	}
	checkDuplicates(all, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return objectsOf(all), nil
}

func loadFile(path string, load func(io.Reader, string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	load(f, path)
	return nil
}

// expandPath returns the file itself, or a directory's manifest files.
func expandPath(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && slices.Contains(extensions, filepath.Ext(e.Name())) {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("directory %q holds no .yaml, .yml or .json files", p)
	}
	return files, nil
}
