package install

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/names"
	"github.com/netgen-lab/netgen/render"
	"github.com/netgen-lab/netgen/schema"
)

// Record is what netgen put on a system for one lab: it lets a later build
// prune exactly its own stale files and tear down exactly its own devices,
// and lets `netgen down` remove the lab. It lives beside the lab's networkd
// files (networkd reads only *.network, *.netdev and *.link there) as
// .netgen-LAB.json, so it travels with them into an image and follows -o.
type Record struct {
	Lab string `json:"lab"`
	// Files and Links are paths as the system sees them (inside the root).
	Files []string `json:"files"`
	Links []string `json:"links"`
	// Units are the lab's unit names, target included.
	Units []string `json:"units"`
	// Netdevs maps each device networkd creates to the hash of its .netdev:
	// networkd 252 ignores a changed .netdev while the device exists, so a
	// changed hash means netgen re-creates the device.
	Netdevs map[string]string `json:"netdevs"`
	// HostDevices are every host link the lab creates (networkd's and the
	// units'), for `netgen down` to delete what a unit's stop missed.
	HostDevices []string `json:"host_devices"`
	// HostBridgePorts maps a host bridge, bond or VRF that networkd owns to
	// the units that own its ports, members or the VLANs on it, which must
	// rejoin it, or make them again, when it is re-created, and to the
	// lab's wait unit when that sets the bridge's MTU.
	HostBridgePorts map[string][]string `json:"host_bridge_ports,omitempty"`
	// UnitHashes maps each unit to the hash of its file.
	UnitHashes map[string]string `json:"unit_hashes"`
	Namespaces []string          `json:"namespaces"`
	// StableUnits maps each unit to the hash of its file without its netem
	// batches, and Qdiscs each impaired link (NS:IF, IF in the host) to its
	// netem (qdisc.go).
	StableUnits map[string]string `json:"stable_units,omitempty"`
	Qdiscs      map[string]Qdisc  `json:"qdiscs,omitempty"`
}

// RecordName is the record's file name for a lab (a lab name has no ".").
func RecordName(lab string) string { return ".netgen-" + lab + ".json" }

// RecordPath is where the record of a lab is on this machine.
func (d Dirs) RecordPath(lab string) string {
	return filepath.Join(d.NetworkPath(), RecordName(lab))
}

// ReadRecord reads a lab's record; a lab never built has an empty one.
func ReadRecord(d Dirs, lab string) (*Record, error) {
	b, err := readRegular(d.RecordPath(lab))
	if errors.Is(err, fs.ErrNotExist) {
		return &Record{Lab: lab}, nil
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", d.RecordPath(lab), err)
	}
	return &r, nil
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// NewRecord describes what a plan puts on the system.
func NewRecord(p *generator.Plan, files []render.File, links []Link, d Dirs) *Record {
	r := &Record{Lab: p.Lab, Netdevs: map[string]string{}, UnitHashes: map[string]string{},
		HostBridgePorts: map[string][]string{}}
	for _, f := range files {
		dir := d.Network
		if f.Dir == render.NetnsDir {
			dir = names.NetnsDir
		}
		if f.Dir == render.UnitDir {
			dir = d.Unit
			r.Units = append(r.Units, f.Name)
			r.UnitHashes[f.Name] = hash(f.Data)
		}
		r.Files = append(r.Files, filepath.Join(dir, f.Name))
	}
	for _, l := range links {
		r.Links = append(r.Links, l.Inside)
	}
	// Each networkd-created device's .netdev, found by its exact file name
	// (a suffix match would take bridge "x-a"'s file for bridge "a").
	netdevs := map[string][]byte{}
	for _, f := range files {
		if f.Dir == render.NetworkDir && strings.HasSuffix(f.Name, ".netdev") {
			netdevs[f.Name] = f.Data
		}
	}
	for _, l := range p.Links {
		if l.HasNetdev() {
			if data, ok := netdevs[render.FileBase(p.Lab, l)+".netdev"]; ok {
				r.Netdevs[l.Name] = hash(data)
			}
		}
	}
	for _, l := range p.Links {
		if l.NS != "" {
			continue
		}
		if l.Kind != schema.KindUplink {
			r.HostDevices = append(r.HostDevices, l.Name)
		}
		if l.Master != nil {
			if l.Owner != nil {
				r.HostBridgePorts[l.Master.Name] = append(r.HostBridgePorts[l.Master.Name], l.Owner.Name)
			}
		}
		if l.Kind == schema.KindVLAN && l.Owner != nil && l.Parent.Owner == nil {
			// The host unit's VLAN on a networkd bridge dies with it.
			r.HostBridgePorts[l.Parent.Name] = append(r.HostBridgePorts[l.Parent.Name], l.Owner.Name)
		}
		for _, m := range []*generator.Link{l.Bond, l.VRF} {
			if m != nil && l.Owner != nil && m.Owner == nil {
				// A unit's member of a networkd bond or VRF leaves it
				// when netgen re-creates it.
				r.HostBridgePorts[m.Name] = append(r.HostBridgePorts[m.Name], l.Owner.Name)
			}
		}
	}
	for _, u := range p.Units {
		if u.Kind == generator.NamespaceUnit {
			r.Namespaces = append(r.Namespaces, u.Namespaces[0])
		}
		for _, b := range u.PinMTU {
			// A re-created bridge has lost the MTU the wait unit pinned.
			r.HostBridgePorts[b.Name] = append(r.HostBridgePorts[b.Name], u.Name)
		}
	}
	addQdiscs(r, p, files)
	for _, list := range []*[]string{&r.Files, &r.Links, &r.Units, &r.HostDevices, &r.Namespaces} {
		sort.Strings(*list)
	}
	for k, v := range r.HostBridgePorts {
		slices.Sort(v)
		r.HostBridgePorts[k] = slices.Compact(v)
	}
	return r
}

// Bytes is the record's file content.
func (r *Record) Bytes() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// ownedBy reports whether the file at path was generated by netgen for lab
// (its first line says so), or is an enablement symlink into one of lab's
// units. listed says the lab's record names the path: a symlink with a
// name of the old scheme (netgen-LAB-..., which lab "a" shares with lab
// "a-b") is taken only then, or when the unit it points to says lab.
func (d Dirs) ownedBy(path, lab string, listed bool) bool {
	if t, err := os.Readlink(path); err == nil {
		name := filepath.Base(t)
		switch {
		case name != filepath.Base(path):
			return false // not a link `systemctl enable` makes
		case names.Belongs(name, lab):
			return true
		case !names.LegacyBelongs(name, lab):
			return false
		}
		target, err := d.hostPath(t)
		if err != nil {
			return false
		}
		if _, err := os.Lstat(target); err != nil {
			return listed
		}
		return hasHeader(target, lab)
	}
	return hasHeader(path, lab)
}

// hasHeader reports whether the regular file at path starts with lab's
// header (names.HasHeader).
func hasHeader(path, lab string) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	buf := make([]byte, names.HeaderLen)
	n, _ := io.ReadFull(f, buf)
	return names.HasHeader(buf[:n], lab)
}

// ConflictError says netgen refuses to overwrite a file it did not write.
type ConflictError struct{ Path string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s exists and was not generated by netgen for this lab; refusing to overwrite it (move it away first)", e.Path)
}

// Scan finds what a lab left on a system when its record is gone: its
// files (a name of the lab's, and a first line that names the lab), the
// enablement symlinks into its units, the devices its .netdev files name
// and the namespaces of its units. Names of the scheme before "_" are
// ambiguous between labs ("a" and "a-b"), so such a file is the lab's only
// when its first line, which quotes the lab's name, says so.
func Scan(d Dirs, lab string) *Record {
	r := &Record{Lab: lab}
	ours := func(name string) bool { return names.Belongs(name, lab) || names.LegacyBelongs(name, lab) }
	netDir := d.NetworkPath()
	ents, _ := os.ReadDir(netDir)
	for _, e := range ents {
		if !ours(e.Name()) || !hasHeader(filepath.Join(netDir, e.Name()), lab) {
			continue
		}
		r.Files = append(r.Files, filepath.Join(d.Network, e.Name()))
		if strings.HasSuffix(e.Name(), ".netdev") {
			b, _ := readRegular(filepath.Join(netDir, e.Name()))
			for _, line := range strings.Split(string(b), "\n") {
				if name, ok := strings.CutPrefix(line, "Name="); ok {
					r.HostDevices = append(r.HostDevices, name)
				}
			}
		}
	}
	unitDir := d.unitPath()
	ents, _ = os.ReadDir(unitDir)
	for _, e := range ents {
		p := filepath.Join(d.Unit, e.Name())
		if strings.HasSuffix(e.Name(), ".wants") {
			dir, err := d.dirPath(p)
			if err != nil {
				continue
			}
			links, _ := os.ReadDir(dir)
			for _, l := range links {
				if ours(l.Name()) && d.ownedBy(filepath.Join(dir, l.Name()), lab, false) {
					r.Links = append(r.Links, filepath.Join(p, l.Name()))
				}
			}
			continue
		}
		if !ours(e.Name()) || !hasHeader(filepath.Join(unitDir, e.Name()), lab) {
			continue
		}
		r.Files = append(r.Files, p)
		r.Units = append(r.Units, e.Name())
		if n, ok := names.Parse(e.Name()); ok && n.Kind == names.KindNS {
			r.Namespaces = append(r.Namespaces, n.Object)
		} else if ns, ok := names.LegacyNamespace(e.Name(), lab); ok {
			r.Namespaces = append(r.Namespaces, ns)
		}
	}
	r.Files = append(r.Files, scanNetns(d, lab)...)
	return r
}

// scanNetns finds the lab's resolver files in /etc/netns/*/: their names
// are fixed, so only the first line tells whose they are.
func scanNetns(d Dirs, lab string) []string {
	var out []string
	nsDirs, _ := os.ReadDir(filepath.Join(d.Root, names.NetnsDir))
	for _, ns := range nsDirs {
		for _, f := range []string{"resolv.conf", "hosts"} {
			inside := filepath.Join(names.NetnsDir, ns.Name(), f)
			if hp, err := d.hostPath(inside); err == nil && hasHeader(hp, lab) {
				out = append(out, inside)
			}
		}
	}
	return out
}

// Empty reports whether the record names nothing.
func (r *Record) Empty() bool { return len(r.Files) == 0 && len(r.Links) == 0 }

// PlanDown returns the deletions that remove a lab's files, links, record
// and pending work.
func PlanDown(d Dirs, old *Record) ([]Change, error) {
	var out []Change
	for _, p := range append(append([]string{}, old.Files...), old.Links...) {
		hp, err := d.hostPath(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Lstat(hp); err != nil || !d.ownedBy(hp, old.Lab, true) {
			continue
		}
		cur, _ := readRegular(hp)
		out = append(out, Change{Path: hp, Old: cur, Delete: true})
	}
	for _, p := range []string{d.RecordPath(old.Lab), d.PendingPath(old.Lab)} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, Change{Path: p, Delete: true, Quiet: true})
		}
	}
	return out, nil
}
