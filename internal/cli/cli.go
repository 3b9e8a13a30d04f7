// Package cli is netgen's command line: argument parsing with pflag, the
// build/validate commands, and the mapping of every outcome to an exit
// status. cmd/netgen only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/internal/apply"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/schema"
)

// Exit statuses. They are part of the interface pipelines rely on and are
// documented in the README.
const (
	ExitOK = 0
	// ExitLab: the lab has errors; nothing was written.
	ExitLab = 1
	// ExitUsage: wrong command line.
	ExitUsage = 2
	// ExitWrite: an output directory could not be read or written.
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

// readLab reads a lab file or standard input ("-").
func readLab(path string, st IO) (name string, src []byte, err error) {
	if path == "-" {
		src, err = io.ReadAll(st.In)
		return "<stdin>", src, err
	}
	src, err = os.ReadFile(path)
	return path, src, err
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
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %s: %v\n", name, err)
		return nil, ExitLab
	}
	res.Diags.Render(st.Err, src)
	if res.Diags.HasErrors() {
		fmt.Fprintf(st.Err, "%s: %s%s\n", name, summary(res.Diags), tail)
		return nil, ExitLab
	}
	return res, ExitOK
}

// dirFlags are the output options build and down share.
func dirFlags(fs *pflag.FlagSet, o *buildOpts, rootHelp string) {
	fs.StringVarP(&o.dirs.Network, "output", "o", "", "systemd-networkd directory (default "+install.DefaultNetworkDir+")")
	fs.StringVar(&o.dirs.Unit, "unit-dir", "", "systemd unit directory (default "+install.DefaultUnitDir+")")
	fs.StringVar(&o.dirs.Root, "root", "", rootHelp)
	fs.BoolVar(&o.noReload, "no-reload", false, "change the files only; do not touch the running system")
}

type buildOpts struct {
	dirs     install.Dirs
	noReload bool
	dryRun   bool
	check    bool
}

func build(args []string, st IO) int {
	fs := newFlags("build LAB", "build LAB [options]", st)
	var o buildOpts
	dirFlags(fs, &o, "build into the image or chroot at ROOT: paths are taken inside it, nothing running is touched")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would change, change nothing")
	fs.BoolVar(&o.check, "check", false, fmt.Sprintf("change nothing; exit %d if anything would change, 0 if up to date", ExitChanges))
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(st.Err, "netgen: build takes exactly one LAB")
		fs.Usage()
		return ExitUsage
	}
	if o.dirs.Root != "" {
		if fi, err := os.Stat(o.dirs.Root); err != nil || !fi.IsDir() {
			fmt.Fprintf(st.Err, "netgen: --root %s is not a directory\n", o.dirs.Root)
			return ExitUsage
		}
	}
	o.dirs = o.dirs.Resolve()

	name, src, err := readLab(fs.Arg(0), st)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitLab
	}
	if !o.dryRun && fs.Arg(0) != "-" && fastUpToDate(fs.Arg(0), src, o, st) {
		return ExitOK
	}
	res, code := compileSrc(name, src, "; nothing was written", st)
	if code != ExitOK {
		return code
	}
	status, rec := realize(res, o, st)
	if status == ExitOK && rec != nil && !o.check && !o.dryRun && fs.Arg(0) != "-" {
		writeStamp(fs.Arg(0), src, o.dirs, rec)
	}
	return status
}

// realize writes a compiled lab and, on a running systemd host, makes the
// running system match it. It returns the lab's record when the system
// matches the lab.
func realize(res *compile.Result, o buildOpts, st IO) (int, *install.Record) {
	ctx := context.Background()
	lab := res.Plan.Lab
	links := install.EnableLinks(res.Plan, o.dirs)
	old, err := install.ReadRecord(o.dirs, lab)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitWrite, nil
	}
	rec := install.NewRecord(res.Plan, res.Files, links, o.dirs)
	changes, err := install.Plan(res.Files, links, o.dirs, old, rec)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitWrite, nil
	}
	live := o.dirs.Root == "" && !o.noReload && apply.SystemdRunning()
	var sys *apply.System
	actions := &apply.Actions{}
	if live {
		sys, err = apply.Connect(ctx, st.Err)
		if err != nil {
			if o.check || o.dryRun {
				fmt.Fprintf(st.Err, "netgen: %v\n", err)
				live = false
			} else {
				// Files first: the lab is then in place for the next boot.
				if werr := install.Apply(changes); werr != nil {
					fmt.Fprintf(st.Err, "netgen: writing lab %s: %v\n", lab, werr)
					return ExitWrite, nil
				}
				fmt.Fprintf(st.Err, "netgen: %v\n", err)
				return ExitApply, nil
			}
		} else {
			defer sys.Close()
			actions = apply.Compute(old, rec, changes, o.dirs, sys.States(ctx, rec.Units))
		}
	}
	visible := install.Visible(changes)
	switch {
	case o.check:
		for _, line := range install.Describe(visible) {
			fmt.Fprintln(st.Out, line)
		}
		for _, line := range actions.Describe() {
			fmt.Fprintln(st.Out, line)
		}
		if len(visible) > 0 || !actions.Empty() {
			return ExitChanges, nil
		}
		return ExitOK, nil
	case o.dryRun:
		for _, c := range visible {
			if c.Link != nil {
				fmt.Fprintf(st.Out, "link %s -> %s\n", c.Path, c.Link.Target)
				continue
			}
			fmt.Fprint(st.Out, install.Diff(c))
		}
		for _, line := range actions.Describe() {
			fmt.Fprintln(st.Out, "would "+line)
		}
		if len(visible) == 0 && actions.Empty() {
			fmt.Fprintf(st.Err, "netgen: lab %s is up to date\n", lab)
		}
		return ExitOK, nil
	}
	if len(visible) == 0 && actions.Empty() {
		if err := install.Apply(changes); err != nil { // at most the record
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
			return ExitWrite, nil
		}
		fmt.Fprintf(st.Err, "netgen: lab %s is up to date\n", lab)
		return ExitOK, rec
	}
	// Every file is written aside first: a failure here (read-only or full
	// disk) leaves both the old files and the running system untouched.
	staged, err := install.Stage(changes)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: writing lab %s: %v; nothing was changed\n", lab, err)
		return ExitWrite, nil
	}
	if live {
		if err := sys.Before(ctx, actions); err != nil {
			staged.Abort()
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
			return ExitApply, nil
		}
	}
	if err := staged.Commit(); err != nil {
		fmt.Fprintf(st.Err, "netgen: writing lab %s: %v\n", lab, err)
		return ExitWrite, nil
	}
	if n := len(visible); n > 0 {
		fmt.Fprintf(st.Err, "netgen: lab %s: %s\n", lab, plural(n, "file"))
	}
	switch {
	case live:
		for _, line := range actions.Describe() {
			fmt.Fprintln(st.Err, "netgen: "+line)
		}
		if err := sys.After(ctx, actions, rec.Units); err != nil {
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
			return ExitApply, nil
		}
	case o.dirs.Root != "":
		warnNetworkd(o.dirs, st)
	case !o.noReload:
		fmt.Fprintln(st.Err, "netgen: systemd is not running here: files written, nothing applied")
	}
	return ExitOK, rec
}

// warnNetworkd warns when an image does not start systemd-networkd, which
// owns the lab's host objects.
func warnNetworkd(d install.Dirs, st IO) {
	p := filepath.Join(d.Root, "etc/systemd/system/multi-user.target.wants/systemd-networkd.service")
	if _, err := os.Lstat(p); err != nil {
		fmt.Fprintf(st.Err, "netgen: warning: systemd-networkd.service is not enabled in %s: the lab's host objects will not come up (systemctl --root=%s enable systemd-networkd)\n", d.Root, d.Root)
	}
}

func down(args []string, st IO) int {
	fs := newFlags("down LAB", "down LAB [options]", st)
	var o buildOpts
	dirFlags(fs, &o, "remove the lab from the image or chroot at ROOT; nothing running is touched")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be removed, remove nothing")
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(st.Err, "netgen: down takes exactly one LAB (a lab file or a lab name)")
		fs.Usage()
		return ExitUsage
	}
	o.dirs = o.dirs.Resolve()
	lab, code := labName(fs.Arg(0), st)
	if code != ExitOK {
		return code
	}
	rec, err := install.ReadRecord(o.dirs, lab)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitWrite
	}
	if rec.Empty() {
		rec = install.Scan(o.dirs, lab)
	}
	changes := install.PlanDown(o.dirs, rec)
	if len(changes) == 0 {
		fmt.Fprintf(st.Err, "netgen: lab %s is not installed here\n", lab)
		return ExitOK
	}
	if o.dryRun {
		for _, line := range install.Describe(changes) {
			fmt.Fprintln(st.Out, line)
		}
		return ExitOK
	}
	ctx := context.Background()
	live := o.dirs.Root == "" && !o.noReload && apply.SystemdRunning()
	var sys *apply.System
	if live {
		if sys, err = apply.Connect(ctx, st.Err); err != nil {
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
			return ExitApply
		}
		defer sys.Close()
		if err := sys.Down(ctx, rec); err != nil {
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
			return ExitApply
		}
	}
	if err := install.Apply(changes); err != nil {
		fmt.Fprintf(st.Err, "netgen: removing lab %s: %v\n", lab, err)
		return ExitWrite
	}
	if live {
		if err := sys.AfterDown(ctx, rec); err != nil {
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
			return ExitApply
		}
	}
	removeStamps(o.dirs, lab)
	fmt.Fprintf(st.Err, "netgen: lab %s removed (%s)\n", lab, plural(len(install.Visible(changes)), "file"))
	return ExitOK
}

// labName takes a lab file (its name: or file name) or a plain lab name.
func labName(arg string, st IO) (string, int) {
	if arg == "-" || strings.ContainsAny(arg, "/.") {
		name, src, err := readLab(arg, st)
		if err != nil {
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
			return "", ExitLab
		}
		lab, diags := schema.Decode(name, src)
		if diags.HasErrors() {
			diags.Render(st.Err, src)
			return "", ExitLab
		}
		return lab.Name.Value, ExitOK
	}
	return arg, ExitOK
}

func plural(n int, s string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s written", n, s)
	}
	return fmt.Sprintf("%d %ss written", n, strings.TrimSuffix(s, "s"))
}
