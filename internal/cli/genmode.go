package cli

import (
	"fmt"

	"github.com/netgen-lab/netgen/internal/apply"
	"github.com/netgen-lab/netgen/internal/genmode"
	"github.com/netgen-lab/netgen/internal/install"
)

// Labs in /etc/netgen are brought up at boot by the generator, which keeps
// them in the runtime directories (/run/systemd/network and normal-dir).
// `netgen build` and `netgen down` of such a lab work on those same files
// and the same record, so a lab is never on the system twice: see
// docs/design.md, "Labs in /etc/netgen".

// labDirs returns the directories for LAB: the generator's when LAB is a
// file of /etc/netgen, a generator is installed, and no directory was
// given on the command line; d otherwise.
func labDirs(arg string, d install.Dirs) install.Dirs {
	if d.Root != "" || d.Network != "" || d.Unit != "" || !genmode.IsLabFile(arg) || !genmode.Installed("") {
		return d
	}
	if apply.SystemdRunning() {
		// A build on the running system: the generator's next run is a
		// daemon-reload, even if this system never ran it at boot.
		genmode.MarkBooted("")
	}
	return genmode.RuntimeDirs("")
}

// guardCopies refuses to build a lab into the persistent directories while
// the generator keeps it in the runtime ones, and the other way round.
func guardCopies(lab string, d install.Dirs, st IO) int {
	var other install.Dirs
	var why string
	switch {
	case d.Network == genmode.NetworkDir && d.Unit == genmode.UnitDir:
		other = genmode.PersistentDirs(d.Root)
		why = fmt.Sprintf("lab %s is already installed in %s by an earlier netgen build; run netgen down %s first, so that the lab is not on the system twice", lab, other.Network, lab)
	case d.Network == install.DefaultNetworkDir && d.Unit == install.DefaultUnitDir:
		other = genmode.RuntimeDirs(d.Root)
		why = fmt.Sprintf("lab %s is up from %s (the netgen generator keeps it in %s): change its file there and run netgen build on it, or remove the file and run netgen down %s first", lab, genmode.LabDir, other.Network, lab)
	default:
		return ExitOK
	}
	if genmode.InstalledIn(other, lab) {
		fmt.Fprintf(st.Err, "netgen: %s\n", why)
		return ExitWrite
	}
	return ExitOK
}

// downDirs finds a lab given by name where the generator keeps it, when
// no directory was given and the persistent directories do not have it.
func downDirs(lab string, d install.Dirs, st IO) install.Dirs {
	if d.Root != "" || d.Network != install.DefaultNetworkDir || d.Unit != install.DefaultUnitDir {
		return d
	}
	if rec, err := install.ReadRecord(d, lab); err != nil || !rec.Empty() {
		return d
	}
	run, err := genmode.RuntimeDirs("").Resolve()
	if err != nil || !genmode.InstalledIn(run, lab) {
		return d
	}
	fmt.Fprintf(st.Err, "netgen: lab %s is up from %s: remove its file there too, or it comes back at the next boot\n", lab, genmode.LabDir)
	return run
}
