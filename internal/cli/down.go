package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/netgen-lab/netgen/internal/apply"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/schema"
)

// down removes exactly one lab: the files, symlinks, units, namespaces and
// devices its record (or, without one, names.Belongs and the files' first
// lines) says are its own. A lab that is not there changes nothing and is
// not an error: down's promise, "the lab is not on this system", holds.
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
	o.dirs = labDirs(fs.Arg(0), o.dirs)
	if err := resolveDirs(&o); err != nil {
		return fail(st, err)
	}
	lab, code := labName(fs.Arg(0), st)
	if code != ExitOK {
		return code
	}
	o.dirs = downDirs(lab, o.dirs, st)
	rec, err := install.ReadRecord(o.dirs, lab)
	if err != nil {
		return fail(st, err)
	}
	if rec.Empty() {
		rec = install.Scan(o.dirs, lab)
	}
	changes, err := install.PlanDown(o.dirs, rec)
	if err != nil {
		return fail(st, err)
	}
	if len(changes) == 0 {
		fmt.Fprintf(st.Err, "netgen: lab %s is not installed here; nothing changed\n", lab)
		return ExitOK
	}
	if o.dryRun {
		for _, line := range install.Describe(changes) {
			fmt.Fprintln(st.Out, line)
		}
		return ExitOK
	}
	if err := remove(rec, changes, o, st); err != nil {
		return fail(st, err)
	}
	install.RemoveStamps(o.dirs, lab)
	fmt.Fprintf(st.Err, "netgen: lab %s removed (%s)\n", lab, plural(len(install.Visible(changes)), "file"))
	return ExitOK
}

// remove stops the lab's units, deletes its files, and has systemd and
// networkd forget them.
func remove(rec *install.Record, changes []install.Change, o buildOpts, st IO) error {
	if !o.live() {
		return install.Apply(changes)
	}
	ctx := context.Background()
	sys, err := apply.Connect(ctx, st.Err)
	if err != nil {
		return err
	}
	defer sys.Close()
	if err := sys.Down(ctx, rec); err != nil {
		return err
	}
	if err := install.Apply(changes); err != nil {
		return fmt.Errorf("removing lab %s: %w", rec.Lab, err)
	}
	return sys.AfterDown(ctx, rec)
}

// labName takes a lab file (its name: or file name) or a plain lab name. A
// name that no lab can have is a usage error: it would match nothing, or,
// worse, more than one lab.
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
		if err := names.CheckLab(lab.Name.Value); err != nil {
			fmt.Fprintf(st.Err, "netgen: %s: %v\n", name, err)
			return "", ExitLab
		}
		return lab.Name.Value, ExitOK
	}
	if err := names.CheckLab(arg); err != nil {
		fmt.Fprintf(st.Err, "netgen: down: %v (give a lab name or a lab file)\n", err)
		return "", ExitUsage
	}
	return arg, ExitOK
}
