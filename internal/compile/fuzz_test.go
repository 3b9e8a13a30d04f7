package compile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/render"
)

// FuzzCompile feeds arbitrary bytes through decode, validate, generate and
// render. Whatever the input: no panic, every diagnostic points inside the
// file, and a lab that passes validation renders into files that re-parse
// and that carry nothing validation should have kept out.
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
	})
}
