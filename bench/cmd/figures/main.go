// Command figures measures the build figures of docs/performance.md and
// prints them as Markdown tables: bench/netplan.sh and bench/scale.sh call
// it with a netgen binary built for the purpose.
//
//	figures netplan -netgen [LABEL=]BIN[,[LABEL=]BIN...] [-rounds 21] [-dir /dev/shm/netgen-bench]
//	figures scale   -netgen BIN [-sizes 1000,5000,10000] [-rounds 5]
//	figures features -netgen BIN [-namespaces 200] [-rounds 11]
//
// netplan: the same logical topology (uplinks, VLANs over them, bridges
// with the VLANs as ports and one address each) built by `netgen build
// --root` and by netplan's generator (its binary, and `netplan generate
// --root-dir`, the Python command that runs it), output on tmpfs, fresh
// output every run, the tools in turns (the order alternates every round),
// and the median of the per-round ratios. Then the same with the output of
// the previous run in place: netgen rewrites nothing, netplan's generator
// rewrites everything. Several netgen binaries (built different ways: go
// build, go install from a module path) are timed in the same turns, each
// into its own root.
//
// scale: `netgen build --root` of labs of N namespaces (each with a veth to
// a host bridge and one to the next namespace) into an empty tmpfs root:
// wall time and the peak RSS the kernel reports for the process.
//
// features: `netgen build --root` of the namespace lab (N namespaces on
// one host bridge, as in the bring-up figure) as it is and with each
// feature of docs/performance.md added (a service per namespace, netem on
// every namespace's eth0, the namespaces wired in pairs, the lab spread over
// two machines and built for one), fresh into an empty tmpfs root, the labs
// in turns: the cost of each feature against the plain lab.
//
// Every run is a new process, timed from fork to exit, as a pipeline or a
// user would run it. Nothing is asserted: the tables say whether the
// targets are met.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netgen-lab/netgen/bench/labgen"
	"github.com/netgen-lab/netgen/bench/stats"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: figures netplan|scale|features -netgen BIN [options]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "netplan":
		err = netplan(os.Args[2:])
	case "scale":
		err = scale(os.Args[2:])
	case "features":
		err = features(os.Args[2:])
	default:
		err = fmt.Errorf("unknown figure %q: netplan, scale or features", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "figures:", err)
		os.Exit(1)
	}
}

// run is one timed process.
type run struct {
	ms    float64
	rssKB int64
}

// timed runs a command to completion and returns its wall time and peak
// RSS. Its output is kept only to explain a failure.
func timed(name string, args ...string) (run, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return run{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out.String()))
	}
	r := run{ms: float64(d.Microseconds()) / 1000}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssKB = ru.Maxrss
	}
	return r, nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// workDir makes a fresh directory for a figure and checks that it is on
// tmpfs: on a disk, the figure would measure the disk.
func workDir(dir string) (string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "", err
	}
	const tmpfsMagic = 0x01021994
	if st.Type != tmpfsMagic {
		return "", fmt.Errorf("%s is not on tmpfs: give -dir a directory on one (/dev/shm, or a tmpfs mounted in `unshare -m`)", dir)
	}
	return dir, nil
}

// fresh empties dir (untimed) so that the next run writes everything.
func fresh(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// countFiles counts regular files and symlinks under dir.
func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func ms(xs []run) []float64 {
	out := make([]float64, len(xs))
	for i, r := range xs {
		out[i] = r.ms
	}
	return out
}

func findNetplanGenerator() (string, error) {
	for _, p := range []string{"/usr/lib/netplan/generate", "/lib/netplan/generate"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("netplan's generator is not installed (apt-get install netplan.io)")
}

func netplan(args []string) error {
	fl := flag.NewFlagSet("netplan", flag.ExitOnError)
	netgen := fl.String("netgen", "", "netgen binaries to time, comma-separated, each BIN or LABEL=BIN")
	rounds := fl.Int("rounds", 21, "rounds (each runs every tool once)")
	dir := fl.String("dir", "/dev/shm/netgen-bench-netplan", "work directory, on tmpfs (removed first)")
	var spec labgen.Spec
	fl.IntVar(&spec.Uplinks, "uplinks", 10, "uplinks")
	fl.IntVar(&spec.VLANs, "vlans", 1000, "VLANs over the uplinks")
	fl.IntVar(&spec.VLANBridges, "bridges", 200, "bridges taking the VLANs as ports")
	fl.Parse(args)
	if *netgen == "" {
		return errors.New("-netgen BIN is required")
	}
	gen, err := findNetplanGenerator()
	if err != nil {
		return err
	}
	work, err := workDir(*dir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	var lab, np bytes.Buffer
	if err := spec.Write(&lab); err != nil {
		return err
	}
	if err := spec.Netplan(&np); err != nil {
		return err
	}
	labFile := filepath.Join(work, "lab.yml")
	if err := os.WriteFile(labFile, lab.Bytes(), 0o644); err != nil {
		return err
	}
	npRoot := filepath.Join(work, "netplan")
	npOut := filepath.Join(npRoot, "run")
	if err := os.MkdirAll(filepath.Join(npRoot, "etc/netplan"), 0o755); err != nil {
		return err
	}
	// 0600: netplan warns about a configuration others can read.
	if err := os.WriteFile(filepath.Join(npRoot, "etc/netplan/lab.yaml"), np.Bytes(), 0o600); err != nil {
		return err
	}

	type tool struct {
		name string
		// setup runs untimed before the timed command.
		setup func() error
		cmd   []string
		runs  []run
		files int
	}
	// Each tool's "again" run follows its fresh run; the pairs alternate.
	var pairs [][]*tool
	var firstBin string
	for i, nb := range strings.Split(*netgen, ",") {
		// The label may hold "=" (-buildvcs=false), a path here does not.
		label, bin := "", nb
		if i := strings.LastIndex(nb, "="); i >= 0 {
			label, bin = ", "+nb[:i], nb[i+1:]
		}
		if i == 0 {
			firstBin = bin
		}
		root := filepath.Join(work, fmt.Sprintf("netgen%d", i))
		pairs = append(pairs, []*tool{
			{name: "netgen build (fresh" + label + ")", setup: func() error { return fresh(root) },
				cmd: []string{bin, "build", labFile, "--root", root}},
			{name: "netgen build (unchanged, output in place" + label + ")", setup: func() error { return nil },
				cmd: []string{bin, "build", labFile, "--root", root}},
		})
	}
	ngFresh := pairs[0][0]
	genFresh := &tool{name: "netplan generator binary (fresh)", setup: func() error { return fresh(npOut) },
		cmd: []string{gen, "--root-dir", npRoot}}
	genAgain := &tool{name: "netplan generator binary (again, output in place)", setup: func() error { return nil },
		cmd: []string{gen, "--root-dir", npRoot}}
	cli := &tool{name: "netplan generate --root-dir (fresh)", setup: func() error { return fresh(npOut) },
		cmd: []string{"netplan", "generate", "--root-dir", npRoot}}
	hasCLI := true
	if _, err := exec.LookPath("netplan"); err != nil {
		hasCLI = false
	}

	pairs = append(pairs, []*tool{genFresh, genAgain})
	if hasCLI {
		pairs = append(pairs, []*tool{cli})
	}
	// One warm-up round, not counted: page cache, binaries, Python's .pyc.
	for r := -1; r < *rounds; r++ {
		for k := range pairs {
			for _, t := range pairs[(k+max(r, 0))%len(pairs)] {
				if err := t.setup(); err != nil {
					return err
				}
				res, err := timed(t.cmd[0], t.cmd[1:]...)
				if err != nil {
					return err
				}
				if r >= 0 {
					t.runs = append(t.runs, res)
				}
			}
		}
		if r < 0 {
			ngFresh.files = countFiles(filepath.Join(work, "netgen0", "etc"))
			genFresh.files = countFiles(npOut)
		}
	}

	base := ms(genFresh.runs)
	tbl := &stats.Table{Header: []string{"run", "median", "range (ms)", "× generator fresh", "× generator again"}}
	var all []*tool
	for _, p := range pairs {
		all = append(all, p...)
	}
	for _, t := range all {
		if len(t.runs) == 0 {
			continue
		}
		x := ms(t.runs)
		tbl.Add(t.name, stats.Ms(stats.Median(x)), stats.Range(x, "%.1f"),
			fmt.Sprintf("%.2f", stats.Median(stats.Ratios(x, base))),
			fmt.Sprintf("%.2f", stats.Median(stats.Ratios(x, ms(genAgain.runs)))))
	}
	fmt.Printf("Build, netgen vs netplan: %d uplinks, %d VLANs, %d bridges with the VLANs as ports and one address each\n",
		spec.Uplinks, spec.VLANs, spec.VLANBridges)
	fmt.Printf("%s; %s; netplan.io %s; output on tmpfs; %d rounds, tools in turns; medians, ratios are medians of per-round ratios\n",
		stats.Machine(), firstLine(timedVersion(firstBin)), dpkgVersion("netplan.io"), *rounds)
	fmt.Printf("netgen writes %d files (networkd files and its record), netplan's generator %d\n\n", ngFresh.files, genFresh.files)
	tbl.Write(os.Stdout)
	fmt.Println()
	for _, p := range pairs {
		if !strings.HasPrefix(p[0].name, "netgen") || len(p[0].runs) == 0 {
			continue
		}
		fresh := stats.Median(stats.Ratios(ms(p[0].runs), base))
		again := stats.Median(stats.Ratios(ms(p[1].runs), base))
		fmt.Printf("Targets (%s): fresh ≤ 0.80× generator: %.3f× (%s); unchanged re-run ≤ 0.10× generator: %.3f× (%s)\n",
			strings.TrimSuffix(strings.TrimPrefix(p[0].name, "netgen build (fresh, "), ")"), fresh, metOrNot(fresh <= 0.8), again, metOrNot(again <= 0.1))
	}
	return nil
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

func timedVersion(bin string) string {
	out, _ := exec.Command(bin, "version").CombinedOutput()
	return strings.TrimSpace(string(out))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func dpkgVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		return "(unknown version)"
	}
	return string(out)
}

func scale(args []string) error {
	fl := flag.NewFlagSet("scale", flag.ExitOnError)
	netgen := fl.String("netgen", "", "netgen binary to time")
	sizes := fl.String("sizes", "1000,5000,10000", "numbers of namespaces")
	rounds := fl.Int("rounds", 5, "runs of each size")
	dir := fl.String("dir", "/dev/shm/netgen-bench-scale", "work directory, on tmpfs (removed first)")
	fl.Parse(args)
	if *netgen == "" {
		return errors.New("-netgen BIN is required")
	}
	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes %q: want positive integers", *sizes)
		}
		ns = append(ns, n)
	}
	work, err := workDir(*dir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	type size struct {
		n           int
		lab, root   string
		bytes       int
		files       int
		fresh, more []run
	}
	var all []*size
	for _, n := range ns {
		s := &size{n: n, lab: filepath.Join(work, fmt.Sprintf("ns%d.yml", n)), root: filepath.Join(work, fmt.Sprintf("root%d", n))}
		var b bytes.Buffer
		if err := (labgen.Spec{Namespaces: n, Neighbours: true}).Write(&b); err != nil {
			return err
		}
		s.bytes = b.Len()
		if err := os.WriteFile(s.lab, b.Bytes(), 0o644); err != nil {
			return err
		}
		all = append(all, s)
	}
	for r := -1; r < *rounds; r++ {
		for k := range all {
			s := all[(k+max(r, 0))%len(all)]
			if err := fresh(s.root); err != nil {
				return err
			}
			f, err := timed(*netgen, "build", s.lab, "--root", s.root)
			if err != nil {
				return err
			}
			a, err := timed(*netgen, "build", s.lab, "--root", s.root)
			if err != nil {
				return err
			}
			if r < 0 {
				s.files = countFiles(filepath.Join(s.root, "etc"))
				continue
			}
			s.fresh, s.more = append(s.fresh, f), append(s.more, a)
		}
		// The roots of big labs are large: keep tmpfs small between sizes.
		for _, s := range all {
			os.RemoveAll(s.root)
		}
	}
	peak := func(rs []run) int64 {
		var m int64
		for _, r := range rs {
			m = max(m, r.rssKB)
		}
		return m
	}
	tbl := &stats.Table{Header: []string{"namespaces", "lab", "files", "build (fresh)", "per namespace", "× previous size (time / size)", "peak RSS", "build (unchanged)", "peak RSS (unchanged)"}}
	for i, s := range all {
		t := stats.Median(ms(s.fresh))
		growth := ""
		if i > 0 {
			p := all[i-1]
			tp := stats.Median(ms(p.fresh))
			growth = fmt.Sprintf("%.2f× for %.1f× (%.2f per doubling)", t/tp, float64(s.n)/float64(p.n),
				math.Pow(t/tp, 1/math.Log2(float64(s.n)/float64(p.n))))
		}
		tbl.Add(s.n, fmt.Sprintf("%d KB", s.bytes/1024), s.files, stats.Ms(t), fmt.Sprintf("%.1f µs", t*1000/float64(s.n)), growth,
			fmt.Sprintf("%d MB", peak(s.fresh)/1024), stats.Ms(stats.Median(ms(s.more))), fmt.Sprintf("%d MB", peak(s.more)/1024))
	}
	fmt.Printf("Scale: `netgen build LAB --root ROOT`, N namespaces each with a veth to a host bridge (1000 per bridge) and one to the next namespace\n")
	fmt.Printf("%s; %s; output on tmpfs; %d runs of each size, sizes in turns; medians; peak RSS is the largest of the runs\n\n",
		stats.Machine(), firstLine(timedVersion(*netgen)), *rounds)
	tbl.Write(os.Stdout)
	if len(all) > 1 {
		a, b := all[len(all)-2], all[len(all)-1]
		r := stats.Median(ms(b.fresh)) / stats.Median(ms(a.fresh))
		allowed := math.Pow(2.2, math.Log2(float64(b.n)/float64(a.n)))
		fmt.Printf("\nTargets: %d → %d namespaces takes %.2f× the time, ≤ %.2f× allowed (2.2× per doubling): %s; peak RSS at %d: %d MB, < 300 MB: %s\n",
			a.n, b.n, r, allowed, metOrNot(r <= allowed), b.n, peak(b.fresh)/1024, metOrNot(peak(b.fresh) < 300*1024))
	}
	return nil
}

func features(args []string) error {
	fl := flag.NewFlagSet("features", flag.ExitOnError)
	netgen := fl.String("netgen", "", "netgen binary to time")
	n := fl.Int("namespaces", 200, "namespaces of the lab")
	rounds := fl.Int("rounds", 11, "runs of each lab")
	dir := fl.String("dir", "/dev/shm/netgen-bench-features", "work directory, on tmpfs (removed first)")
	fl.Parse(args)
	if *netgen == "" {
		return errors.New("-netgen BIN is required")
	}
	work, err := workDir(*dir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	type lab struct {
		name, path, root string
		args             []string
		files            int
		fresh, again     []run
	}
	base := labgen.Spec{Namespaces: *n}
	specs := []struct {
		name string
		spec labgen.Spec
		args []string
	}{
		{"plain", base, nil},
		{"services (one per namespace)", labgen.Spec{Namespaces: *n, Services: true}, nil},
		{"impairment (netem on every eth0)", labgen.Spec{Namespaces: *n, Netem: true}, nil},
		{"wires (namespaces in pairs)", labgen.Spec{Namespaces: *n, Wires: true}, nil},
		{"two machines (built for m1)", labgen.Spec{Namespaces: *n, Machines: 2}, []string{"--machine", "m1"}},
	}
	var labs []*lab
	for i, sp := range specs {
		l := &lab{name: sp.name, path: filepath.Join(work, fmt.Sprintf("lab%d.yml", i)), root: filepath.Join(work, fmt.Sprintf("root%d", i)), args: sp.args}
		var b bytes.Buffer
		if err := sp.spec.Write(&b); err != nil {
			return err
		}
		if err := os.WriteFile(l.path, b.Bytes(), 0o644); err != nil {
			return err
		}
		labs = append(labs, l)
	}
	for r := -1; r < *rounds; r++ {
		for k := range labs {
			l := labs[(k+max(r, 0))%len(labs)]
			if err := fresh(l.root); err != nil {
				return err
			}
			args := append([]string{"build", l.path, "--root", l.root}, l.args...)
			f, err := timed(*netgen, args...)
			if err != nil {
				return err
			}
			a, err := timed(*netgen, args...)
			if err != nil {
				return err
			}
			if r < 0 {
				l.files = countFiles(filepath.Join(l.root, "etc"))
				continue
			}
			l.fresh, l.again = append(l.fresh, f), append(l.again, a)
		}
	}
	tbl := &stats.Table{Header: []string{"lab, " + strconv.Itoa(*n) + " namespaces", "files", "build (fresh)", "range (ms)", "× plain (median of ratios)", "build (unchanged)"}}
	for _, l := range labs {
		tbl.Add(l.name, l.files, stats.Ms(stats.Median(ms(l.fresh))), stats.Range(ms(l.fresh), "%.1f"),
			fmt.Sprintf("%.2f", stats.Median(stats.Ratios(ms(l.fresh), ms(labs[0].fresh)))), stats.Ms(stats.Median(ms(l.again))))
	}
	fmt.Printf("Features: `netgen build LAB --root ROOT` of %d namespaces on one host bridge, plain and with each feature\n", *n)
	fmt.Printf("%s; %s; output on tmpfs, emptied before each fresh build; %d runs of each lab, labs in turns; medians\n\n",
		stats.Machine(), firstLine(timedVersion(*netgen)), *rounds)
	tbl.Write(os.Stdout)
	return nil
}
