package bench

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/bench/labgen"
	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/cli"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/render"
	"github.com/netgen-lab/netgen/schema"
)

// labs are the sizes every stage is measured on: a hand-written example, the
// namespace shape of the scale figure at 1k, and the host VLAN topology of
// the netplan figure.
var labs = []struct {
	name string
	spec *labgen.Spec // nil: read file
	file string
}{
	{name: "classic", file: "../examples/classic.yml"},
	{name: "ns100", spec: &labgen.Spec{Namespaces: 100, Neighbours: true}},
	{name: "ns1k", spec: &labgen.Spec{Namespaces: 1000, Neighbours: true}},
	{name: "vlan1k", spec: &labgen.Spec{Uplinks: 10, VLANs: 1000, VLANBridges: 200}},
}

func source(tb testing.TB, i int) (string, []byte) {
	tb.Helper()
	l := labs[i]
	if l.spec == nil {
		src, err := os.ReadFile(l.file)
		if err != nil {
			tb.Fatal(err)
		}
		return filepath.Base(l.file), src
	}
	var b bytes.Buffer
	if err := l.spec.Write(&b); err != nil {
		tb.Fatal(err)
	}
	return l.name + ".yml", b.Bytes()
}

// mustValid compiles a lab once, outside the timed loop, and fails the
// benchmark (never on time, only on a broken lab) if it has errors.
func mustValid(tb testing.TB, file string, src []byte) *compile.Result {
	tb.Helper()
	return testlabs.Compile(tb, file, src)
}

func forEachLab(b *testing.B, f func(b *testing.B, file string, src []byte)) {
	for i := range labs {
		file, src := source(b, i)
		mustValid(b, file, src)
		b.Run(labs[i].name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			f(b, file, src)
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		for b.Loop() {
			schema.Decode(file, src)
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		lab, _ := schema.Decode(file, src)
		for b.Loop() {
			schema.Validate(lab, &diag.List{File: file})
		}
	})
}

func BenchmarkGenerate(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		lab, _ := schema.Decode(file, src)
		for b.Loop() {
			generator.Generate(lab)
		}
	})
}

func BenchmarkRender(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		plan := mustValid(b, file, src).Plan
		for b.Loop() {
			if _, err := render.Render(plan); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompile is the whole pipeline, as `netgen validate` runs it plus
// generate and render.
func BenchmarkCompile(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		for b.Loop() {
			if _, err := compile.Compile(file, src); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDiagnostics renders a lab's warnings (the VLAN lab has one per
// bridge with an address), as every build prints them.
func BenchmarkDiagnostics(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		res := mustValid(b, file, src)
		for b.Loop() {
			res.Diags.Render(io.Discard, src)
		}
	})
}

// build runs `netgen build` in this process, as the binary would.
func build(b *testing.B, args ...string) {
	var stderr bytes.Buffer
	if code := cli.Main(append([]string{"build"}, args...), cli.IO{In: strings.NewReader(""), Out: io.Discard, Err: &stderr}); code != 0 {
		b.Fatalf("netgen build %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
}

// BenchmarkBuildFresh is `netgen build LAB --root ROOT` into an empty root
// each time (making the empty root is not timed). On tmpfs (put TMPDIR on
// one) it measures netgen, not the disk.
func BenchmarkBuildFresh(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		dir := b.TempDir()
		lab := filepath.Join(dir, file)
		if err := os.WriteFile(lab, src, 0o644); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			b.StopTimer()
			root := filepath.Join(dir, "root")
			if err := os.RemoveAll(root); err != nil {
				b.Fatal(err)
			}
			if err := os.Mkdir(root, 0o755); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			build(b, lab, "--root", root)
		}
	})
}

// BenchmarkBuildUnchanged is `netgen build` again on an unchanged lab that
// is already built: what a pipeline running netgen every few minutes pays.
func BenchmarkBuildUnchanged(b *testing.B) {
	forEachLab(b, func(b *testing.B, file string, src []byte) {
		dir := b.TempDir()
		lab := filepath.Join(dir, file)
		if err := os.WriteFile(lab, src, 0o644); err != nil {
			b.Fatal(err)
		}
		root := filepath.Join(dir, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			b.Fatal(err)
		}
		build(b, lab, "--root", root)
		for b.Loop() {
			build(b, lab, "--root", root)
		}
	})
}

// The floor benchmarks time what any tool writing the VLAN lab's 2411
// files must do on this machine, whatever its code: they bound what
// docs/performance.md can ask of netgen's install step. Put TMPDIR on tmpfs.
const floorFiles = 2411

func floorDir(b *testing.B) (string, []byte) {
	dir := b.TempDir()
	return dir, bytes.Repeat([]byte("x"), 300)
}

func floorName(dir string, i int) string {
	return filepath.Join(dir, "50-netgen-bench_vlan-eth"+strconv.Itoa(i)+".network")
}

// BenchmarkFloorAtomicWrite: each file written beside its path and renamed
// into place (open, write, close, rename), the fewest system calls an
// atomic write takes; no fsync.
func BenchmarkFloorAtomicWrite(b *testing.B) {
	dir, data := floorDir(b)
	for b.Loop() {
		for i := 0; i < floorFiles; i++ {
			p := floorName(dir, i)
			if err := os.WriteFile(p+".tmp", data, 0o644); err != nil {
				b.Fatal(err)
			}
			if err := os.Rename(p+".tmp", p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// floorFilled is floorDir with its files already written.
func floorFilled(b *testing.B) string {
	dir, data := floorDir(b)
	for i := 0; i < floorFiles; i++ {
		if err := os.WriteFile(floorName(dir, i), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkFloorReadAll: reading every file back, as a content comparison
// on an unchanged re-run does.
func BenchmarkFloorReadAll(b *testing.B) {
	dir := floorFilled(b)
	for b.Loop() {
		for i := 0; i < floorFiles; i++ {
			if _, err := os.ReadFile(floorName(dir, i)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFloorLstat: one lstat per file, what a re-run that trusts size,
// mtime and inode recorded at the last write would do instead.
func BenchmarkFloorLstat(b *testing.B) {
	dir := floorFilled(b)
	for b.Loop() {
		for i := 0; i < floorFiles; i++ {
			if _, err := os.Lstat(floorName(dir, i)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
