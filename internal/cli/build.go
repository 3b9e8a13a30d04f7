package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/netgen-lab/netgen/internal/apply"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/internal/killpoint"
	"github.com/netgen-lab/netgen/names"
)

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

// live reports whether a build or down changes the running system too.
func (o buildOpts) live() bool {
	return o.dirs.Root == "" && !o.noReload && apply.SystemdRunning()
}

// resolveDirs checks --root and resolves the directories inside it.
func resolveDirs(o *buildOpts) error {
	if o.dirs.Root != "" {
		if fi, err := os.Stat(o.dirs.Root); err != nil || !fi.IsDir() {
			return &usageError{fmt.Sprintf("--root %s is not a directory", o.dirs.Root)}
		}
	}
	d, err := o.dirs.Resolve()
	o.dirs = d
	return err
}

// buildID identifies this netgen's code for the stamps ("" disables them):
// the binary's Go build ID, which every build has, VCS or not (see
// install.BuildIdentity).
var buildID = install.BuildIdentity

func build(args []string, st IO) int {
	fs := newFlags("build LAB", "build LAB [options]", st)
	var o buildOpts
	dirFlags(fs, &o, "build into the image or chroot at ROOT: paths are taken inside it, nothing running is touched")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would change, change nothing")
	fs.BoolVar(&o.check, "check", false, fmt.Sprintf("change nothing; exit %d if anything would change, 0 if up to date", ExitChanges))
	machine := machineFlag(fs)
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(st.Err, "netgen: build takes exactly one LAB")
		fs.Usage()
		return ExitUsage
	}
	o.dirs = labDirs(fs.Arg(0), o.dirs)
	if err := resolveDirs(&o); err != nil {
		return fail(st, err)
	}
	name, src, err := readLab(fs.Arg(0), st)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitLab
	}
	m, code := resolveMachine(name, src, *machine, st)
	if code != ExitOK {
		return code
	}
	if !o.dryRun && fs.Arg(0) != "-" && fastUpToDate(fs.Arg(0), stampSource(src, m), o, st) {
		return ExitOK
	}
	res, code := compileMachine(name, src, m, "; nothing was written", st)
	if code != ExitOK {
		return code
	}
	if err := checkTools(res.Plan, o.dirs); err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitWrite
	}
	status, rec := realize(res, o, st)
	if status == ExitOK && rec != nil && !o.check && !o.dryRun && fs.Arg(0) != "-" {
		install.WriteStamp(o.dirs, buildID(), fs.Arg(0), stampSource(src, m), rec)
	}
	return status
}

// fastUpToDate is the unchanged re-run: no compile when the stamp holds and,
// on a running host, every unit of the lab is active.
func fastUpToDate(labPath string, src []byte, o buildOpts, st IO) bool {
	lab, units, ok := install.UpToDate(o.dirs, buildID(), labPath, src)
	if !ok {
		return false
	}
	if o.live() && len(units) > 0 {
		sys, err := apply.Connect(context.Background(), st.Err)
		if err != nil {
			return false
		}
		defer sys.Close()
		for u, s := range sys.States(context.Background(), units) {
			if !apply.Up(u, s) {
				return false
			}
		}
	}
	if !o.check {
		fmt.Fprintf(st.Err, "netgen: lab %s is up to date\n", lab)
	}
	return true
}

// job is one build: a compiled lab compared with the files and, on a
// running host, with the running system.
type job struct {
	o        buildOpts
	st       IO
	lab      string
	old, rec *install.Record
	changes  []install.Change
	// pending is the work an interrupted run left (nil: none).
	pending *apply.Actions
	// sys is nil unless the running system is changed too.
	sys     *apply.System
	actions *apply.Actions
}

// realize writes a compiled lab and, on a running systemd host, makes the
// running system match it. It returns the lab's record when the system
// matches the lab.
func realize(res *compile.Result, o buildOpts, st IO) (int, *install.Record) {
	ctx := context.Background()
	if code := guardCopies(res.Plan.Lab, o.dirs, st); code != ExitOK {
		return code, nil
	}
	j, err := plan(res, o, st)
	if err != nil {
		return fail(st, err), nil
	}
	if o.live() {
		err := j.connect(ctx)
		switch {
		case err == nil:
			defer j.sys.Close()
		case o.check || o.dryRun:
			// Compare the files alone.
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
		default:
			return j.offline(err), nil
		}
	}
	switch {
	case o.check:
		return j.check(), nil
	case o.dryRun:
		return j.dryRun(), nil
	}
	if err := j.apply(ctx); err != nil {
		return fail(st, err), nil
	}
	return ExitOK, j.rec
}

// plan compares the lab with the files and the lab's record.
func plan(res *compile.Result, o buildOpts, st IO) (*job, error) {
	j := &job{o: o, st: st, lab: res.Plan.Lab, actions: &apply.Actions{}}
	links, err := install.EnableLinks(res.Plan, o.dirs)
	if err != nil {
		return nil, err
	}
	if j.old, err = install.ReadRecord(o.dirs, j.lab); err != nil {
		return nil, err
	}
	j.rec = install.NewRecord(res.Plan, res.Files, links, o.dirs)
	if j.changes, err = install.Plan(res.Files, links, o.dirs, j.old, j.rec); err != nil {
		return nil, err
	}
	if o.live() {
		b, err := install.ReadPending(o.dirs, j.lab)
		if err != nil {
			return nil, err
		}
		if b != nil {
			if j.pending, err = apply.ParsePending(b); err != nil {
				return nil, fmt.Errorf("%s: %v (remove it, then run `systemctl daemon-reload`, `networkctl reload` and `systemctl restart %s`)", o.dirs.PendingPath(j.lab), err, names.Target(j.lab))
			}
		}
	}
	return j, nil
}

// connect reaches systemd and works out the runtime actions.
func (j *job) connect(ctx context.Context) error {
	sys, err := apply.Connect(ctx, j.st.Err)
	if err != nil {
		return err
	}
	j.sys = sys
	units := append(append([]string{}, j.rec.Units...), j.old.Units...)
	if j.pending != nil {
		units = append(append(append(units, j.pending.Stop...), j.pending.Start...), j.pending.Restart...)
	}
	j.actions = apply.Compute(j.old, j.rec, j.changes, j.o.dirs, sys.States(ctx, units), j.pending)
	return nil
}

// offline writes the files when systemd cannot be reached: the lab is then
// in place for the next boot, and the runtime work waits, pending, for a
// run that reaches systemd.
func (j *job) offline(cause error) int {
	a := apply.Compute(j.old, j.rec, j.changes, j.o.dirs, nil, j.pending)
	if !a.Empty() {
		if err := install.WritePending(j.o.dirs, j.lab, a.Bytes()); err != nil {
			return fail(j.st, fmt.Errorf("writing lab %s: %w", j.lab, err))
		}
	}
	if err := install.Apply(j.changes); err != nil {
		return fail(j.st, fmt.Errorf("writing lab %s: %w", j.lab, err))
	}
	return fail(j.st, cause)
}

// check lists what would change; ExitChanges when anything would.
func (j *job) check() int {
	visible := install.Visible(j.changes)
	for _, line := range install.Describe(visible) {
		fmt.Fprintln(j.st.Out, line)
	}
	for _, line := range j.actions.Describe() {
		fmt.Fprintln(j.st.Out, line)
	}
	if len(visible) > 0 || !j.actions.Empty() {
		return ExitChanges
	}
	return ExitOK
}

// dryRun prints the diffs and the actions it would take.
func (j *job) dryRun() int {
	visible := install.Visible(j.changes)
	for _, c := range visible {
		if c.Link != nil {
			fmt.Fprintf(j.st.Out, "link %s -> %s\n", c.Path, c.Link.Target)
			continue
		}
		fmt.Fprint(j.st.Out, install.Diff(c))
	}
	for _, line := range j.actions.Describe() {
		fmt.Fprintln(j.st.Out, "would "+line)
	}
	if len(visible) == 0 && j.actions.Empty() {
		fmt.Fprintf(j.st.Err, "netgen: lab %s is up to date\n", j.lab)
	}
	return ExitOK
}

// apply writes the files and carries out the actions. The runtime work is
// written down (pending) before the first rename and cleared once done, so
// that a run after any interruption finishes it.
func (j *job) apply(ctx context.Context) error {
	visible := install.Visible(j.changes)
	if len(visible) == 0 && j.actions.Empty() {
		if err := install.Apply(j.changes); err != nil { // at most the record
			return err
		}
		if j.pending != nil {
			// Nothing of it is left to do.
			if err := install.ClearPending(j.o.dirs, j.lab); err != nil {
				return err
			}
		}
		fmt.Fprintf(j.st.Err, "netgen: lab %s is up to date\n", j.lab)
		return nil
	}
	// Every file is written aside first: a failure here (read-only or full
	// disk) leaves both the old files and the running system untouched.
	staged, err := install.Stage(j.changes)
	if err != nil {
		return fmt.Errorf("writing lab %s: %w; nothing was changed", j.lab, err)
	}
	killpoint.Step("stage")
	if j.sys != nil {
		if err := install.WritePending(j.o.dirs, j.lab, j.actions.Bytes()); err != nil {
			staged.Abort()
			return fmt.Errorf("writing lab %s: %w; nothing was changed", j.lab, err)
		}
		killpoint.Step("pending")
		if err := j.sys.Before(ctx, j.actions); err != nil {
			staged.Abort()
			return err
		}
	}
	if err := staged.Commit(); err != nil {
		return fmt.Errorf("writing lab %s: %w", j.lab, err)
	}
	if n := len(visible); n > 0 {
		fmt.Fprintf(j.st.Err, "netgen: lab %s: %s written\n", j.lab, plural(n, "file"))
	}
	switch {
	case j.sys != nil:
		for _, line := range j.actions.Describe() {
			fmt.Fprintln(j.st.Err, "netgen: "+line)
		}
		failed, err := j.sys.After(ctx, j.actions)
		if err != nil {
			return err
		}
		if err := install.ClearPending(j.o.dirs, j.lab); err != nil {
			return err
		}
		killpoint.Step("done")
		return j.sys.Verify(ctx, j.rec.Units, failed)
	case j.o.dirs.Root != "":
		warnNetworkd(j.o.dirs, j.st)
	case !j.o.noReload:
		fmt.Fprintln(j.st.Err, "netgen: systemd is not running here: files written, nothing applied")
	}
	return nil
}

// warnNetworkd warns when an image does not start systemd-networkd, which
// owns the lab's host objects.
func warnNetworkd(d install.Dirs, st IO) {
	if !d.Enabled("multi-user.target", "systemd-networkd.service") {
		fmt.Fprintf(st.Err, "netgen: warning: systemd-networkd.service is not enabled in %s: the lab's host objects will not come up (systemctl --root=%s enable systemd-networkd)\n", d.Root, d.Root)
	}
}

func plural(n int, s string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, s)
	}
	return fmt.Sprintf("%d %ss", n, strings.TrimSuffix(s, "s"))
}
