package schema_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/internal/testkit/testbed"
)

var update = flag.Bool("update", false, "rewrite sysctl_keys.txt from Debian's kernel booted under QEMU")

// extraModules are modules outside kernel/net/ that a lab's links use; only
// vrf adds a sysctl (net.vrf.strict_mode), the others are listed so that
// the file says they add none.
var extraModules = []string{"drivers/net/vrf.ko", "drivers/net/bonding/bonding.ko", "drivers/net/dummy.ko",
	"drivers/net/veth.ko", "drivers/net/tun.ko", "drivers/net/macvlan.ko", "drivers/net/ipvlan/ipvlan.ko",
	"drivers/net/vxlan/vxlan.ko"}

// TestSysctlKeysFromDebian boots the test image's Debian kernel under QEMU,
// loads every networking module one by one (each after the modules it
// depends on), and lists /proc/sys/net inside a fresh network namespace
// after each: schema/sysctl_keys.txt must be exactly what that finds.
// `go generate ./schema` (go test -update) rewrites the file.
//
// It runs only when asked (NETGEN_SYSCTL_KEYS=1 or -update, with
// NETGEN_BOOT=1): the boot and the 480 modprobes, each followed by a listing
// in a new namespace, took 7 min 21 s under TCG, three times the rest of the
// boot tiers together, for a file that changes only with Debian's kernel.
func TestSysctlKeysFromDebian(t *testing.T) {
	if os.Getenv("NETGEN_SYSCTL_KEYS") != "1" && !*update {
		t.Skip("checking sysctl_keys.txt against Debian's kernel boots QEMU for 7 minutes: set NETGEN_SYSCTL_KEYS=1 (and NETGEN_BOOT=1) to run it")
	}
	testbed.RequireBoot(t)
	img := testbed.EnsureImage(t)
	mods, kernel, err := netModules(img.Root)
	if err != nil {
		t.Fatal(err)
	}
	root := img.Copy(t)
	script := strings.Replace(guestScript, "@MODULES@", strings.Join(mods, " "), 1)
	boots := testbed.RunQEMUOpts(t, root, script, testbed.QEMUOptions{Timeout: 40 * time.Minute})
	b := boots[0]
	if b.ExitCode != 0 {
		t.Fatalf("the listing failed (exit %d):\n%s", b.ExitCode, b.Output)
	}
	got, err := keyFile(b.Output, kernel, mods)
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, b.Output)
	}
	const file = "sysctl_keys.txt"
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what Debian's kernel has (go generate ./schema rewrites it):\n%s", file, lineDiff(want, got))
	}
}

// guestScript runs in the guest as root. "@key MODULE PATH" lines give the
// files a new network namespace has, first with no module loaded by hand
// ("-"), then after each modprobe the new ones; "@writable", "@value" the
// details in a namespace of their own; "@init" the root namespace's files.
const guestScript = `#!/bin/sh
set -u
list() { unshare -n find /proc/sys/net -type f | LC_ALL=C sort; }
echo "@kernel $(uname -r)"
lsmod | awk 'NR > 1 { print "@loaded " $1 }' | LC_ALL=C sort
list >/tmp/prev
sed 's/^/@key - /' /tmp/prev
for m in @MODULES@; do
	[ -e "/sys/module/$m" ] && continue
	if ! modprobe -q "$m" 2>/dev/null; then
		echo "@failed $m"
		continue
	fi
	list >/tmp/cur
	LC_ALL=C comm -13 /tmp/prev /tmp/cur | sed "s/^/@key $m /"
	mv /tmp/cur /tmp/prev
done
unshare -n sh -c 'find /proc/sys/net -type f -perm /222 | sed "s/^/@writable /"; grep -r . /proc/sys/net 2>/dev/null | sed "s/^/@value /"'
find /proc/sys/net -type f | sed 's/^/@init /'
`

// netModules lists the image's networking modules (kernel/net/ and
// extraModules) in an order where every module comes after those it depends
// on: modules.dep lists each module's dependencies transitively, so fewer
// dependencies first is such an order.
func netModules(root string) (mods []string, kernel string, err error) {
	deps, _ := filepath.Glob(filepath.Join(root, "lib/modules/*/modules.dep"))
	if len(deps) != 1 {
		return nil, "", fmt.Errorf("want one kernel in the image, found modules.dep %v", deps)
	}
	kernel = filepath.Base(filepath.Dir(deps[0]))
	data, err := os.ReadFile(deps[0])
	if err != nil {
		return nil, "", err
	}
	extra := map[string]bool{}
	for _, m := range extraModules {
		extra["kernel/"+m] = true
	}
	type mod struct {
		name string
		deps int
	}
	var list []mod
	for _, line := range strings.Split(string(data), "\n") {
		path, rest, ok := strings.Cut(line, ":")
		if !ok || !(strings.HasPrefix(path, "kernel/net/") || extra[path]) {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(path), ".ko")
		list = append(list, mod{strings.ReplaceAll(name, "-", "_"), len(strings.Fields(rest))})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].deps != list[j].deps {
			return list[i].deps < list[j].deps
		}
		return list[i].name < list[j].name
	})
	for _, m := range list {
		mods = append(mods, m.name)
	}
	return mods, kernel, nil
}

// perIf are the directories with one entry per interface; the guest's
// namespaces have lo (and tunnel modules' fallback devices such as gre0),
// and lo's entries stand for every interface.
var perIf = regexp.MustCompile(`^(net/(?:ipv4|ipv6)/(?:conf|neigh)|net/mpls/conf)/([^/]+)/(.+)$`)

type keyInfo struct {
	module string
	value  string
	read   bool
	write  bool
}

// keyFile turns the guest's report into sysctl_keys.txt.
func keyFile(out, kernel string, mods []string) ([]byte, error) {
	net := map[string]bool{}
	for _, m := range mods {
		net[m] = true
	}
	keys := map[string]*keyInfo{}
	init := map[string]bool{}
	var loaded, failed []string
	gotKernel := ""
	// generalize maps a file to its key: lo's per-interface entries become
	// "*", other interfaces' are dropped ("" ).
	generalize := func(path string) string {
		path = strings.TrimPrefix(path, "/proc/sys/")
		if m := perIf.FindStringSubmatch(path); m != nil {
			switch m[2] {
			case "all", "default":
			case "lo":
				return m[1] + "/*/" + m[3]
			default:
				return ""
			}
		}
		return path
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		tag, rest, _ := strings.Cut(sc.Text(), " ")
		switch tag {
		case "@kernel":
			gotKernel = rest
		case "@loaded":
			if net[rest] {
				loaded = append(loaded, rest)
			}
		case "@failed":
			failed = append(failed, rest)
		case "@key":
			module, path, _ := strings.Cut(rest, " ")
			if k := generalize(path); k != "" && keys[k] == nil {
				keys[k] = &keyInfo{module: module}
			}
		case "@writable":
			if k := keys[generalize(rest)]; k != nil {
				k.write = true
			}
		case "@value":
			path, value, _ := strings.Cut(rest, ":")
			if k := keys[generalize(path)]; k != nil && !k.read {
				k.value, k.read = value, true
			}
		case "@init":
			if k := generalize(rest); k != "" {
				init[k] = true
			}
		}
	}
	if gotKernel != kernel {
		return nil, fmt.Errorf("the guest ran kernel %q, the image has %q", gotKernel, kernel)
	}
	if len(keys) < 100 {
		return nil, fmt.Errorf("only %d keys: the listing did not work", len(keys))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Generated by "go generate ./schema" (TestSysctlKeysFromDebian); do not edit.
#
# The net.* sysctls of Debian 12's kernel %s in a network namespace
# other than the root one, listed under QEMU after loading every module of
# kernel/net/ and the link drivers one by one. A lab's namespaces get exactly
# these keys; "*" is any interface (lo's entries stand for every interface).
#
# PATH TYPE ACCESS MODULE
#   TYPE    int: one integer; intN: up to N integers separated by blanks;
#           text: anything else (names, masks, lists), or unreadable
#   ACCESS  rw: writable in a namespace; ro: read-only there;
#           host: only in the root namespace (not per namespace)
#   MODULE  "-": present without loading a module; else the module whose
#           loading made the key appear
#
# Networking modules loaded at boot, before any modprobe: %s
# Failed to load: %s
`, kernel, orNone(loaded), orNone(failed))
	paths := make([]string, 0, len(keys)+len(init))
	for p := range keys {
		paths = append(paths, p)
	}
	for p := range init {
		if keys[p] == nil {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		k := keys[p]
		if k == nil {
			fmt.Fprintf(&b, "%s - host -\n", p)
			continue
		}
		access := "ro"
		if k.write {
			access = "rw"
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", p, valueType(k.value, k.read), access, k.module)
	}
	return b.Bytes(), nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, " ")
}

var intRE = regexp.MustCompile(`^(-?[1-9][0-9]*|0|0x[0-9a-fA-F]+)$`)

// valueType guesses a key's type from its value: integers as the kernel's
// proc_dointvec prints them. A value with leading zeros is a hex mask
// (rps_default_mask prints 00000000), so text.
func valueType(v string, read bool) string {
	f := strings.Fields(v)
	if !read || len(f) == 0 {
		return "text"
	}
	for _, x := range f {
		if !intRE.MatchString(x) {
			return "text"
		}
	}
	if len(f) == 1 {
		return "int"
	}
	return fmt.Sprintf("int%d", len(f))
}

// lineDiff names the lines only one side has.
func lineDiff(want, got []byte) string {
	in := func(b []byte) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for l := range w {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range g {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
