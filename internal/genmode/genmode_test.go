package genmode_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netgen-lab/netgen/internal/cli"
	"github.com/netgen-lab/netgen/internal/genmode"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/internal/testkit/testlabs"
	"github.com/netgen-lab/netgen/render"
)

// A lab with host bridges (networkd files) and namespaces (units).
const good = "../../examples/host-veth.yml"

// broken has two errors; the generator must log both, positioned, and
// bring up nothing of it.
const broken = `version: 1
name: broken
namespaces: {a: {}, b: {}}
bridges:
  br0: {sttp: true}
veths:
  - [{name: a:e0, addresses: [10.0.0.300/24]}, b:e0]
`

// system is a directory standing in for / with what the generator reads.
func system(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mkfile(t, root, "/usr/lib/systemd/system/systemd-networkd.service", "[Unit]\n")
	src, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	mkfile(t, root, "/etc/netgen/hostveth.yml", string(src))
	mkfile(t, root, "/etc/netgen/broken.yml", broken)
	mkfile(t, root, "/etc/netgen/README", "not a lab: ignored")
	os.MkdirAll(filepath.Join(root, genmode.UnitDir), 0o755)
	return root
}

func mkfile(t *testing.T, root, p, data string) {
	t.Helper()
	p = filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs the generator on root; its messages go to the returned buffer
// as the console would show them (no /dev/kmsg).
func run(t *testing.T, root string) (bool, string) {
	t.Helper()
	var log bytes.Buffer
	ok := genmode.Run(genmode.Config{Root: root, UnitDir: genmode.UnitDir, Log: genmode.ConsoleLog(&log)})
	return ok, log.String()
}

func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
			return nil
		}
		b, _ := os.ReadFile(p)
		out[rel] = string(b)
		return nil
	})
	return out
}

// TestBoot: at boot the valid lab gets its units, their enablement, its
// networkd files and its record in the runtime directories, networkd is
// enabled for the boot, the broken lab is logged with every positioned
// diagnostic and nothing of it is written, and nothing under /etc changes.
func TestBoot(t *testing.T) {
	root := system(t)
	etcBefore := tree(t, filepath.Join(root, "etc"))
	ok, log := run(t, root)
	if ok {
		t.Errorf("Run = true with a broken lab file")
	}
	for _, want := range []string{
		"/etc/netgen/broken.yml:5:9: error: unknown key \"sttp\"",
		"    5 |   br0: {sttp: true}\n      |         ^",
		"/etc/netgen/broken.yml:7:31: error: \"10.0.0.300/24\" is not an address",
		"error: /etc/netgen/broken.yml: lab skipped for 2 errors: nothing of it comes up",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "hostveth") || strings.Contains(log, "README") {
		t.Errorf("log mentions the valid lab or the non-lab file:\n%s", log)
	}
	units := tree(t, filepath.Join(root, genmode.UnitDir))
	network := tree(t, filepath.Join(root, genmode.NetworkDir))
	src, _ := os.ReadFile(good)
	res := testlabs.Compile(t, "hostveth.yml", src)
	want := map[string]bool{"multi-user.target.wants/systemd-networkd.service": true}
	for _, f := range res.Files {
		if f.Dir == render.UnitDir {
			want[f.Name] = true
		}
	}
	links, err := install.EnableLinks(res.Plan, install.Dirs{Unit: "/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		want[strings.TrimPrefix(l.Path, "/")] = true
	}
	if !equal(keysOnly(units), keysOnly(toStrings(want))) {
		t.Errorf("normal-dir has %v, want %v", keys(units), keys(toStrings(want)))
	}
	if got := units["multi-user.target.wants/"+res.Plan.Target]; got != "-> "+genmode.UnitDir+"/"+res.Plan.Target {
		t.Errorf("enablement symlink of %s: %s", res.Plan.Target, got)
	}
	if _, ok := network[install.RecordName("hostveth")]; !ok {
		t.Errorf("no record in %s: %v", genmode.NetworkDir, keys(network))
	}
	nd := 0
	for name := range network {
		if strings.HasSuffix(name, ".network") || strings.HasSuffix(name, ".netdev") {
			nd++
		}
	}
	if nd == 0 {
		t.Errorf("no networkd file in %s: %v", genmode.NetworkDir, keys(network))
	}
	for name, data := range tree(t, filepath.Join(root, "run")) {
		if strings.Contains(name, "broken") || strings.Contains(data, `lab "broken"`) {
			t.Errorf("the broken lab left %s", name)
		}
	}
	if etcAfter := tree(t, filepath.Join(root, "etc")); !equal(etcBefore, etcAfter) {
		t.Errorf("the generator changed /etc: %v -> %v", keys(etcBefore), keys(etcAfter))
	}

	// netgen build of the same file into the same directories finds the
	// lab up to date: same bytes, same record, one copy.
	r := netgen(t, "build", filepath.Join(root, "etc/netgen/hostveth.yml"), "--root", root,
		"-o", genmode.NetworkDir, "--unit-dir", genmode.UnitDir, "--no-reload")
	if r.code != 0 || !strings.Contains(r.stderr, "lab hostveth is up to date") {
		t.Errorf("netgen build after the generator: exit %d, stderr %q, want up to date", r.code, r.stderr)
	}
	if again := tree(t, filepath.Join(root, "run")); !equal(again, merge(prefix("systemd/generator/", units), prefix("systemd/network/", network), map[string]string{"netgen/generator-ran": ""})) {
		t.Errorf("netgen build changed the generator's files")
	}
}

// TestDaemonReload: on a later run (daemon-reload, normal-dir emptied by
// systemd) an up lab gets its units again, from its current file, while
// its networkd files and record stay as they were (they describe what
// runs, for netgen build to compare with); a lab file added since boot is
// left to netgen build.
func TestDaemonReload(t *testing.T) {
	root := system(t)
	run(t, root)
	networkBefore := tree(t, filepath.Join(root, genmode.NetworkDir))
	unitsBefore := tree(t, filepath.Join(root, genmode.UnitDir))

	src, _ := os.ReadFile(good)
	changed := strings.Replace(string(src), "192.168.35.12/24", "192.168.35.22/24", 1)
	mkfile(t, root, "/etc/netgen/hostveth.yml", changed)
	mkfile(t, root, "/etc/netgen/late.yml", "version: 1\nnamespaces: {n1: {}}\n")
	os.RemoveAll(filepath.Join(root, genmode.UnitDir))
	os.MkdirAll(filepath.Join(root, genmode.UnitDir), 0o755)

	_, log := run(t, root)
	if !strings.Contains(log, "/etc/netgen/late.yml: lab late is new since boot: netgen build /etc/netgen/late.yml brings it up now") {
		t.Errorf("no notice for the lab added since boot:\n%s", log)
	}
	if !equal(tree(t, filepath.Join(root, genmode.NetworkDir)), networkBefore) {
		t.Errorf("a daemon-reload changed the networkd files or record of an up lab")
	}
	units := tree(t, filepath.Join(root, genmode.UnitDir))
	if !equal(keysOnly(units), keysOnly(unitsBefore)) {
		t.Errorf("units after reload %v, at boot %v", keys(units), keys(unitsBefore))
	}
	if equal(units, unitsBefore) {
		t.Errorf("the units were not regenerated from the changed lab file")
	}
	for name := range units {
		if strings.Contains(name, "late") {
			t.Errorf("the lab added since boot got %s", name)
		}
	}

	// The lab file removed: its units are gone from normal-dir and the
	// generator says how to take the lab down.
	os.Remove(filepath.Join(root, "etc/netgen/hostveth.yml"))
	os.RemoveAll(filepath.Join(root, genmode.UnitDir))
	_, log = run(t, root)
	if !strings.Contains(log, "lab hostveth is up but has no valid lab file in /etc/netgen any more: its units keep running until netgen down hostveth") {
		t.Errorf("no warning for the up lab whose file is gone:\n%s", log)
	}
}

// TestOneCopy: a lab that netgen build installed in /etc/systemd is left
// alone by the generator, and netgen build refuses to install a second
// copy of a lab in either direction.
func TestOneCopy(t *testing.T) {
	root := system(t)
	os.Remove(filepath.Join(root, "etc/netgen/broken.yml"))
	lab := filepath.Join(root, "etc/netgen/hostveth.yml")
	if r := netgen(t, "build", lab, "--root", root); r.code != 0 {
		t.Fatalf("netgen build --root: exit %d: %s", r.code, r.stderr)
	}
	ok, log := run(t, root)
	if !ok || !strings.Contains(log, "warning: /etc/netgen/hostveth.yml: lab hostveth is also installed in /etc/systemd/network by netgen build; this file is skipped") {
		t.Errorf("ok %v, log:\n%s", ok, log)
	}
	if files := tree(t, filepath.Join(root, genmode.NetworkDir)); len(files) != 0 {
		t.Errorf("the generator wrote a second copy: %v", keys(files))
	}
	r := netgen(t, "build", lab, "--root", root, "-o", genmode.NetworkDir, "--unit-dir", genmode.UnitDir, "--no-reload")
	if r.code != cli.ExitWrite || !strings.Contains(r.stderr, "lab hostveth is already installed in /etc/systemd/network by an earlier netgen build; run netgen down hostveth first") {
		t.Errorf("build into the runtime directories over a persistent copy: exit %d, %q", r.code, r.stderr)
	}

	// The other way: the generator has the lab; a build into /etc refuses.
	root = system(t)
	run(t, root)
	r = netgen(t, "build", good, "--root", root, "--no-reload")
	if r.code != cli.ExitWrite || !strings.Contains(r.stderr, "lab hostveth is up from /etc/netgen") {
		t.Errorf("build into /etc over a generator lab: exit %d, %q", r.code, r.stderr)
	}
	if files := tree(t, filepath.Join(root, "etc/systemd")); len(files) != 0 {
		t.Errorf("the refused build wrote %v", keys(files))
	}
}

// TestKmsg: each message is one /dev/kmsg record in the syslog form
// journald reads the identifier from, with the daemon facility; a record
// never exceeds what the kernel takes; without /dev/kmsg the messages go
// to standard error.
func TestKmsg(t *testing.T) {
	var records []string
	log := genmode.KmsgLog(func() (io.WriteCloser, error) { return &recorder{out: &records}, nil }, io.Discard)
	log.Error("lab %s: %s", "x", "bad")
	log.Notice("%s", strings.Repeat("long line\n", 300))
	if len(records) < 4 {
		t.Fatalf("%d records: %q", len(records), records)
	}
	if !regexp.MustCompile(`^<27>netgen-generator\[\d+\]: error: lab x: bad\n$`).MatchString(records[0]) {
		t.Errorf("record %q", records[0])
	}
	for _, r := range records[1:] {
		if !regexp.MustCompile(`^<29>netgen-generator\[\d+\]: long line`).MatchString(r) || len(r) > 1000 {
			t.Errorf("record of %d bytes: %.60q", len(r), r)
		}
	}
	var stderr bytes.Buffer
	log = genmode.KmsgLog(func() (io.WriteCloser, error) { return nil, errors.New("no kmsg") }, &stderr)
	log.Warning("w")
	if stderr.String() != "netgen-generator: warning: w\n" {
		t.Errorf("fallback wrote %q", stderr.String())
	}
}

type recorder struct {
	out *[]string
	buf bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) { return r.buf.Write(p) }
func (r *recorder) Close() error                { *r.out = append(*r.out, r.buf.String()); return nil }

// TestArgs: the binary acts as the generator only under its generator
// name, checks systemd's arguments, and knows the lab files of /etc/netgen.
func TestArgs(t *testing.T) {
	if !genmode.IsGenerator("/usr/lib/systemd/system-generators/netgen-generator") || genmode.IsGenerator("/usr/bin/netgen") {
		t.Errorf("IsGenerator does not tell the generator from netgen")
	}
	for path, want := range map[string]bool{
		"/etc/netgen/lab.yml": true, "/etc/netgen/../netgen/lab.yml": true,
		"/etc/netgen/lab.yaml": false, "/etc/netgen/sub/lab.yml": false, "/tmp/lab.yml": false, "-": false,
	} {
		if genmode.IsLabFile(path) != want {
			t.Errorf("IsLabFile(%q) = %v", path, !want)
		}
	}
	var stderr bytes.Buffer
	if code := genmode.Main(nil, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("no arguments: exit %d, %q", code, stderr.String())
	}
	t.Setenv("SYSTEMD_IN_INITRD", "1")
	dir := t.TempDir()
	if code := genmode.Main([]string{dir, dir, dir}, &stderr); code != 0 {
		t.Errorf("in the initrd: exit %d", code)
	}
	if files := tree(t, dir); len(files) != 0 {
		t.Errorf("in the initrd the generator wrote %v", keys(files))
	}
}

type result struct {
	code   int
	stderr string
}

func netgen(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return result{code, errb.String()}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func toStrings(m map[string]bool) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = ""
	}
	return out
}

func keysOnly(m map[string]string) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = ""
	}
	return out
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func prefix(p string, m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[p+k] = v
	}
	return out
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
