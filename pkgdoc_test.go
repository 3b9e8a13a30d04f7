// Package netgen_test holds the checks that span the whole module.
package netgen_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestPackageDocs: every package of the module has exactly one doc comment
// (the idea of tailscale's pkgdoc_test.go). None leaves a reader guessing
// what a package is for, and two would disagree sooner or later: godoc
// shows them concatenated in file order.
func TestPackageDocs(t *testing.T) {
	type pkg struct{ dir, name string }
	docs := map[pkg][]string{} // the files of each package that carry a doc comment
	err := filepath.WalkDir(".", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if n := e.Name(); path != "." && (n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "\n//go:build ignore") || strings.HasPrefix(string(src), "//go:build ignore") {
			return nil // not part of any package build
		}
		// An external test package (foo_test) is a package of its own; a
		// test file of package foo belongs to foo but may not carry foo's
		// doc, unless the package has nothing but test files.
		p := pkg{filepath.Dir(path), f.Name.Name}
		if _, ok := docs[p]; !ok {
			docs[p] = nil
		}
		if f.Doc != nil {
			docs[p] = append(docs[p], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 10 {
		t.Fatalf("found only %d packages: is the test running at the module root?", len(docs))
	}
	var keys []pkg
	for p := range docs {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].dir+keys[i].name < keys[j].dir+keys[j].name })
	for _, p := range keys {
		files := docs[p]
		if strings.HasSuffix(p.name, "_test") && len(files) == 0 {
			continue // a black-box test package needs no doc of its own
		}
		switch len(files) {
		case 0:
			t.Errorf("package %s (%s) has no doc comment", p.name, p.dir)
		case 1:
		default:
			t.Errorf("package %s (%s) has %d doc comments, want one: %s", p.name, p.dir, len(files), strings.Join(files, ", "))
		}
	}
}
