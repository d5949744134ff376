package repo_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/anyctl/anyctl"

// listedPackage is what `go list -json` says of one package.
type listedPackage struct {
	ImportPath   string
	Module       *struct{ Path string }
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// importRule is one of the architecture's "never" rules, checked on the
// import graph of the module's packages.
type importRule struct {
	rule string // as the architecture says it
	// covers picks the packages the rule is about.
	covers func(pkg string) bool
	// tests: the package's test files count too; otherwise only the code
	// that goes into a binary.
	tests bool
	// transitive: every package the code reaches counts, not only its
	// direct imports (test files are not followed).
	transitive bool
	// denied says whether importing imp breaks the rule.
	denied func(imp string) bool
}

// importRules are the rules of docs/architecture.md (and the shared
// architecture it keeps true) that an import graph can show.
var importRules = []importRule{
	{
		rule:   "the controller is the only reader and writer of etcd: go.etcd.io is imported only under controller/ (tests included)",
		covers: func(p string) bool { return !under(p, m("controller")) },
		tests:  true,
		denied: func(imp string) bool { return under(imp, "go.etcd.io") },
	},
	{
		rule:   "cli wires the components into the binary: nothing but cli/anyctl (and cli's own tests) imports cli",
		covers: func(p string) bool { return p != m("cli") && p != m("cli/anyctl") },
		tests:  true,
		denied: func(imp string) bool { return under(imp, m("cli")) },
	},
	{
		rule:       "the agent talks to the controller over gRPC only: agent never depends on controller (its tests may run a real one)",
		covers:     func(p string) bool { return under(p, m("agent")) },
		transitive: true,
		denied:     func(imp string) bool { return under(imp, m("controller")) },
	},
	{
		rule:       "the DNS server talks to the controller over gRPC only: dnsgslb never depends on controller (its tests may run a real one)",
		covers:     func(p string) bool { return under(p, m("dnsgslb")) },
		transitive: true,
		denied:     func(imp string) bool { return under(imp, m("controller")) },
	},
	{
		rule:       "compile is pure: of the module it reaches only the wire contract, resource and validation",
		covers:     func(p string) bool { return p == m("compile") },
		transitive: true,
		denied: func(imp string) bool {
			return under(imp, module) && !slices.Contains([]string{m("compile"), m("proto/anycast/v1"), m("resource"), m("validation")}, imp)
		},
	},
	{
		rule:       "compile is pure: it never reaches etcd, GoBGP, metrics or processes",
		covers:     func(p string) bool { return p == m("compile") },
		transitive: true,
		denied: func(imp string) bool {
			return under(imp, "go.etcd.io") || under(imp, "github.com/osrg/gobgp") ||
				under(imp, "github.com/prometheus") || imp == "os/exec" || imp == "os/signal"
		},
	},
	{
		// The wire contract is left out: its generated service stubs
		// import grpc. net itself is allowed for its parsing functions
		// (validation uses net.SplitHostPort); dialling cannot be told
		// from an import.
		rule: "compile is pure: compile, resource and validation import no network, file system, process, gRPC or store package",
		covers: func(p string) bool {
			return p == m("compile") || p == m("resource") || p == m("validation")
		},
		denied: func(imp string) bool {
			for _, d := range []string{
				"os", "io/ioutil", "path/filepath", "syscall", "golang.org/x/sys",
				"net/http", "net/rpc", "net/smtp", "crypto/tls", "golang.org/x/net",
				"log", "google.golang.org/grpc",
				"go.etcd.io", "github.com/osrg/gobgp", "github.com/prometheus",
			} {
				if under(imp, d) {
					return true
				}
			}
			return false
		},
	},
	{
		rule:   "atomicfile is for every package: it imports only the standard library",
		covers: func(p string) bool { return p == m("atomicfile") },
		denied: func(imp string) bool {
			first, _, _ := strings.Cut(imp, "/")
			return strings.Contains(first, ".")
		},
	},
	{
		rule:       "test helpers stay out of the binary: anyctl links neither testing nor a ...test package",
		covers:     func(p string) bool { return p == m("cli/anyctl") },
		transitive: true,
		denied: func(imp string) bool {
			return under(imp, "testing") || under(imp, module) && strings.HasSuffix(imp, "test")
		},
	},
}

// TestImportRules enforces importRules on `go list -deps -json ./...`.
func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	for _, r := range importRules {
		covered := 0
		for _, p := range pkgs {
			if p.Module == nil || p.Module.Path != module {
				continue
			}
			name := short(p.ImportPath)
			if !r.covers(p.ImportPath) {
				continue
			}
			covered++
			if r.transitive {
				if chain := findDenied(pkgs, p.ImportPath, r.denied); chain != nil {
					t.Errorf("%s\n\t%s depends on %s: %s", r.rule, name, chain[len(chain)-1], strings.Join(chain, " → "))
				}
				continue
			}
			imports := map[string][]string{"": p.Imports}
			if r.tests {
				imports["in tests "] = append(slices.Clone(p.TestImports), p.XTestImports...)
			}
			for kind, imps := range imports {
				for _, imp := range imps {
					if r.denied(imp) {
						t.Errorf("%s\n\t%s %simports %s", r.rule, name, kind, short(imp))
					}
				}
			}
		}
		if covered == 0 {
			t.Errorf("rule %q covers no package: was a package renamed?", r.rule)
		}
	}
}

// findDenied is the shortest import chain (module-relative) from the package
// from to one the rule denies, or nil when there is none.
func findDenied(pkgs map[string]*listedPackage, from string, denied func(string) bool) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur != from && denied(cur) {
			var chain []string
			for p := cur; p != ""; p = prev[p] {
				chain = append(chain, short(p))
			}
			slices.Reverse(chain)
			return chain
		}
		if p := pkgs[cur]; p != nil {
			for _, imp := range p.Imports {
				if _, seen := prev[imp]; !seen {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return nil
}

// listPackages runs `go list -deps -json ./...` and returns every package
// it names, the module's and their dependencies, by import path.
func listPackages(t *testing.T) map[string]*listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Module,Imports,TestImports,XTestImports", "./...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]*listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := &listedPackage{}
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if _, ok := pkgs[module+"/cli/anyctl"]; !ok {
		t.Fatalf("go list did not list %s/cli/anyctl: is the test running from the module root?", module)
	}
	return pkgs
}

// short is an import path relative to the module when it is in the module.
func short(imp string) string {
	if imp == module {
		return "."
	}
	if rest, ok := strings.CutPrefix(imp, module+"/"); ok {
		return rest
	}
	return imp
}

// m is the import path of the module's package at rel.
func m(rel string) string { return module + "/" + rel }

// under reports whether imp is pkg or a package below it.
func under(imp, pkg string) bool {
	return imp == pkg || strings.HasPrefix(imp, pkg+"/")
}
