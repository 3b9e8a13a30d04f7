package compile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/alloc"
	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/render"
)

// FuzzCompile feeds arbitrary bytes through decode, validate, generate and
// render. Whatever the input: no panic, every diagnostic points inside the
// file, and a lab that passes validation renders into files that re-parse
// and that carry nothing validation should have kept out; one that uses
// automatic addressing expands (netgen expand) into a lab that renders the
// same files.
func FuzzCompile(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/*.yml")
	more, _ := filepath.Glob("../../testdata/errors/*.yml")
	for _, p := range append(seeds, more...) {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		res, err := compile.Compile("fuzz.yml", src)
		if err != nil {
			// Validation let through a value render refuses: a real bug.
			t.Fatalf("render failed on a valid lab: %v\n%s", err, src)
		}
		lines := len(diag.Lines(src))
		for _, d := range res.Diags.Items {
			if d.Pos.Line < 0 || d.Pos.Line > lines {
				t.Fatalf("diagnostic outside the file (%d lines): %s", lines, d)
			}
		}
		var out bytes.Buffer
		res.Diags.Render(&out, src)
		if res.Diags.HasErrors() {
			if res.Files != nil {
				t.Fatal("files rendered for a lab with errors")
			}
			return
		}
		for _, file := range res.Files {
			assertReparses(t, file)
			name := file.Name
			if file.Dir == render.NetnsDir {
				// NS/FILE: a validated namespace name and a fixed file name.
				name = strings.Replace(name, "/", "", 1)
			}
			if strings.ContainsAny(name, "/\n%") {
				t.Fatalf("unsafe file name %q", file.Name)
			}
		}
		if !alloc.Uses(res.Lab) {
			return
		}
		exp, err := alloc.Expand(src, res.Lab, res.Alloc)
		if err != nil {
			t.Fatalf("expand: %v\n%s", err, src)
		}
		again, err := compile.Compile("fuzz.yml", exp)
		if err != nil || again.Diags.HasErrors() || alloc.Uses(again.Lab) {
			var b bytes.Buffer
			again.Diags.Render(&b, exp)
			t.Fatalf("the expanded lab does not build without allocation (%v):\n%s\n%s\nfrom:\n%s", err, b.String(), exp, src)
		}
		if len(again.Files) != len(res.Files) {
			t.Fatalf("the expanded lab builds %d files, not %d:\n%s", len(again.Files), len(res.Files), exp)
		}
		for i, file := range res.Files {
			if again.Files[i].Name != file.Name || !bytes.Equal(again.Files[i].Data, file.Data) {
				t.Fatalf("the expanded lab builds %s otherwise:\n%s\nfrom:\n%s", file.Name, exp, src)
			}
		}
	})
}
