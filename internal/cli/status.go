package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netgen-lab/netgen/internal/apply"
	"github.com/netgen-lab/netgen/internal/genmode"
	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/internal/status"
)

// ExitDiffers: `status` found the system not as the lab says, or `test`
// found an expectation that does not hold.
const ExitDiffers = 6

func statusCmd(args []string, st IO) int {
	fs := newFlags("status LAB", "status LAB [--json]", st)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(st.Err, "netgen: status takes exactly one LAB")
		fs.Usage()
		return ExitUsage
	}
	res, code := compileLab(fs.Arg(0), "", st)
	if code != ExitOK {
		return code
	}
	p := res.Plan
	prev := previous(p.Lab)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys := &status.System{Previous: prev}
	sys.Namespaces = status.Read(status.Want(p, prev))
	if apply.SystemdRunning() {
		units := append(status.Units(p), prev.Units...)
		slices.Sort(units)
		u, err := status.ReadUnits(ctx, slices.Compact(units))
		if err != nil {
			sys.UnitsErr = err.Error()
		}
		sys.Units = u
	} else {
		sys.UnitsErr = "systemd is not running here"
	}
	rep := status.Compare(p, sys)
	if *asJSON {
		if err := rep.JSON(st.Out); err != nil {
			fmt.Fprintf(st.Err, "netgen: %v\n", err)
		}
	} else {
		rep.Table(st.Out, colour(st))
	}
	if !rep.OK {
		return ExitDiffers
	}
	return ExitOK
}

// previous is what the lab's last build put here: its record, and the
// files that name the lab where the record is gone.
func previous(lab string) status.Previous {
	dirs, _ := install.Dirs{}.Resolve() // without a root, Resolve cannot fail
	var p status.Previous
	recs := []*install.Record{install.Scan(dirs, lab)}
	if rec, err := install.ReadRecord(dirs, lab); err == nil {
		recs = append(recs, rec)
	}
	// A lab of /etc/netgen keeps its record where the generator writes.
	if run, err := genmode.RuntimeDirs("").Resolve(); err == nil {
		if rec, err := install.ReadRecord(run, lab); err == nil {
			recs = append(recs, rec)
		}
	}
	for _, r := range recs {
		p.Units = append(p.Units, r.Units...)
		p.Namespaces = append(p.Namespaces, r.Namespaces...)
		p.HostDevices = append(p.HostDevices, r.HostDevices...)
	}
	for _, l := range []*[]string{&p.Units, &p.Namespaces, &p.HostDevices} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return p
}

// colour reports whether output goes to a terminal that wants colour
// (NO_COLOR unset, TERM not dumb).
func colour(st IO) bool {
	f, ok := st.Out.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
