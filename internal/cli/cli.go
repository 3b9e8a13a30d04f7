// Package cli is netgen's command line: argument parsing with pflag, the
// build/validate commands, and the mapping of every outcome to an exit
// status. cmd/netgen only calls Main.
package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/pflag"

	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/internal/compile"
)

// Exit statuses. They are part of the interface pipelines rely on and are
// documented in the README.
const (
	ExitOK = 0
	// ExitLab: the lab has errors; nothing was written.
	ExitLab = 1
	// ExitUsage: wrong command line.
	ExitUsage = 2
	// ExitWrite: an output directory could not be read or written, a file
	// in the way is not netgen's, or a path leads out of --root.
	ExitWrite = 3
	// ExitApply: the files were written but the running system could not be
	// brought to match them.
	ExitApply = 4
	// ExitChanges: --check found that the system differs from the lab.
	ExitChanges = 5
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "0.1.0-dev"

const usage = `netgen compiles a network lab (YAML) into systemd-networkd files and systemd units.

Usage:
  netgen build LAB [-o NETWORK_DIR] [--unit-dir UNIT_DIR] [--root ROOT] [--no-reload] [--dry-run] [--check]
  netgen validate LAB...
  netgen expand LAB
  netgen down LAB [-o NETWORK_DIR] [--unit-dir UNIT_DIR] [--root ROOT] [--no-reload] [--dry-run]
  netgen status LAB [--json]
  netgen graph LAB [--format dot|mermaid]
  netgen test LAB [--json] [--timeout DURATION]
  netgen version

LAB is a file, or - for standard input.
Run 'netgen COMMAND --help' for the options of a command.
`

// IO are the streams a command uses.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// Main runs netgen with args (without the program name) and returns the exit status.
func Main(args []string, st IO) int {
	if len(args) == 0 {
		fmt.Fprint(st.Err, usage)
		return ExitUsage
	}
	switch args[0] {
	case "build":
		return build(args[1:], st)
	case "validate":
		return validate(args[1:], st)
	case "down":
		return down(args[1:], st)
	case "expand":
		return expand(args[1:], st)
	case "status":
		return statusCmd(args[1:], st)
	case "graph":
		return graphCmd(args[1:], st)
	case "test":
		return testCmd(args[1:], st)
	case "version", "--version", "-V":
		fmt.Fprintf(st.Out, "netgen %s\n", Version)
		return ExitOK
	case "help", "--help", "-h":
		fmt.Fprint(st.Out, usage)
		return ExitOK
	}
	fmt.Fprintf(st.Err, "netgen: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

func newFlags(name, synopsis string, st IO) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(st.Err)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(st.Err, "Usage: netgen %s\n\nOptions:\n%s", synopsis, fs.FlagUsages())
	}
	return fs
}

// parse handles --help (exit 0, usage on stdout) and bad flags (exit 2).
func parse(fs *pflag.FlagSet, args []string, st IO) (int, bool) {
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return ExitOK, false
		}
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		fs.Usage()
		return ExitUsage, false
	}
	if *help {
		fs.SetOutput(st.Out)
		fs.Usage = func() {}
		fmt.Fprintf(st.Out, "Usage: netgen %s\n\nOptions:\n%s", fs.Name(), fs.FlagUsages())
		return ExitOK, false
	}
	return 0, true
}

// MaxLab is the most netgen reads of a lab: a lab is kilobytes (a
// 500-namespace lab is about 60 KiB), and a bound keeps `netgen validate
// /dev/zero` or a wrong pipe from eating the machine's memory.
const MaxLab = 4 << 20

// readLab reads a lab file or standard input ("-"), at most MaxLab bytes.
func readLab(path string, st IO) (name string, src []byte, err error) {
	r, name := st.In, "<stdin>"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return path, nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	src, err = io.ReadAll(io.LimitReader(r, MaxLab+1))
	if err != nil {
		return name, nil, err
	}
	if len(src) > MaxLab {
		return name, nil, fmt.Errorf("%s: larger than %d MiB, the most netgen reads; a lab is a few kilobytes (is this the lab file?)", name, MaxLab>>20)
	}
	gcForLab(len(src))
	return name, src, nil
}

func summary(l *diag.List) string {
	e, w := l.Count()
	plural := func(n int, s string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, s)
		}
		return fmt.Sprintf("%d %ss", n, s)
	}
	switch {
	case e > 0 && w > 0:
		return plural(e, "error") + " and " + plural(w, "warning")
	case e > 0:
		return plural(e, "error")
	case w > 0:
		return plural(w, "warning")
	}
	return ""
}

func validate(args []string, st IO) int {
	fs := newFlags("validate LAB...", "validate LAB...", st)
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(st.Err, "netgen: validate needs at least one LAB")
		fs.Usage()
		return ExitUsage
	}
	status := ExitOK
	for _, path := range fs.Args() {
		if _, code := compileLab(path, "", st); code != ExitOK {
			status = max(status, code)
		}
	}
	return status
}

// compileLab reads and compiles a lab, printing its diagnostics; a lab with
// errors gives ExitLab, with a summary line ending in tail.
func compileLab(path, tail string, st IO) (*compile.Result, int) {
	name, src, err := readLab(path, st)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return nil, ExitLab
	}
	return compileSrc(name, src, tail, st)
}

// compiles counts compilations, for the tests of the unchanged re-run.
var compiles int

func compileSrc(name string, src []byte, tail string, st IO) (*compile.Result, int) {
	compiles++
	res, err := compile.Compile(name, src)
	return reportCompile(name, src, res, err, tail, st)
}

// gcForLab lets the garbage collector wait for 4× the live heap instead of
// Go's default 2× when the lab is small enough for that to stay small. A
// build allocates several times what it keeps (18 MB for the 1000-VLAN lab
// of bench/netplan.sh, 40 KB of YAML), and at GOGC=100 the collector ran
// six times in it; at 400, once, and the build takes 17% less CPU time
// (docs/performance.md, alternating 31 runs each). A build keeps about 60 bytes of heap per
// byte of lab (the 2 MB, 10k-namespace lab of bench/scale.sh peaks at
// 220-280 MB at GOGC=100), so above 512 KB of lab the default stays: its
// peak would grow past the 300 MB that figure allows. GOGC in the
// environment wins.
func gcForLab(size int) {
	if size <= 512<<10 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// reportCompile prints a compilation's diagnostics; a lab with errors gives
// ExitLab, with a summary line ending in tail.
func reportCompile(name string, src []byte, res *compile.Result, err error, tail string, st IO) (*compile.Result, int) {
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %s: %v\n", name, err)
		return nil, ExitLab
	}
	// One write for all diagnostics: the 1000-VLAN lab of bench/netplan.sh
	// has 200 warnings, about 800 writes to stderr when rendered straight
	// to it.
	var diags bytes.Buffer
	res.Diags.Render(&diags, src)
	st.Err.Write(diags.Bytes())
	if res.Diags.HasErrors() {
		fmt.Fprintf(st.Err, "%s: %s%s\n", name, summary(res.Diags), tail)
		return nil, ExitLab
	}
	return res, ExitOK
}
