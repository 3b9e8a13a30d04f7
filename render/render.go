// Package render turns a generator.Plan into file bytes: systemd-networkd
// .netdev/.network files for what networkd owns, and unit files whose
// embedded shell script builds what each unit owns.
//
// Everything is written with go-systemd's unit.SerializeSections, which
// keeps repeated sections ([Address], [Route], [BridgeVLAN]) apart where
// unit.Serialize would merge them. Neither escapes anything, so render
// refuses any value with a line break, "%" or "\": validation keeps those
// out of names, and a value that still carries one is a bug to report, not a
// file to write.
package render

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/names"
)

// Dir says which output directory a file belongs to.
type Dir int

const (
	// NetworkDir is systemd-networkd's configuration directory (-o).
	NetworkDir Dir = iota
	// UnitDir is the systemd unit directory (--unit-dir).
	UnitDir
)

func (d Dir) String() string {
	if d == UnitDir {
		return "unit"
	}
	return "network"
}

// File is one generated file.
type File struct {
	Dir  Dir
	Name string
	Data []byte
	Mode fs.FileMode
}

// Prefix is the file-name prefix of networkd files (names.FilePrefix).
const Prefix = names.FilePrefix

// Header is the first line of every generated file (names.Header).
func Header(p *generator.Plan) string { return names.Header(p.Lab) }

// Render produces every file of a plan, sorted by directory and name.
func Render(p *generator.Plan) ([]File, error) {
	r := &renderer{plan: p}
	for _, l := range p.Links {
		if l.Owner == nil {
			r.networkd(l)
		}
	}
	for _, u := range p.Units {
		r.unmanaged(u)
		r.unit(u)
	}
	if p.Target != "" {
		r.target()
	}
	if r.err != nil {
		return nil, r.err
	}
	sort.Slice(r.files, func(i, j int) bool {
		if r.files[i].Dir != r.files[j].Dir {
			return r.files[i].Dir < r.files[j].Dir
		}
		return r.files[i].Name < r.files[j].Name
	})
	return r.files, nil
}

type renderer struct {
	plan  *generator.Plan
	files []File
	err   error
}

// section is a helper to build a unit.UnitSection from name/value pairs;
// pairs with an empty value are left out.
type section struct{ s *unit.UnitSection }

func newSection(name string) *section { return &section{&unit.UnitSection{Section: name}} }

func (s *section) add(name, value string) *section {
	if value != "" {
		s.s.Entries = append(s.s.Entries, &unit.UnitEntry{Name: name, Value: value})
	}
	return s
}

func (s *section) empty() bool { return len(s.s.Entries) == 0 }

func (r *renderer) write(dir Dir, name string, sections ...*section) {
	var secs []*unit.UnitSection
	for _, s := range sections {
		if s != nil && !s.empty() {
			secs = append(secs, s.s)
		}
	}
	for _, s := range secs {
		for _, e := range s.Entries {
			if strings.ContainsAny(e.Value, "\n\r\\%") || strings.ContainsAny(e.Name, "\n\r=") {
				r.fail(fmt.Errorf("render: %s: %s=%q cannot be written safely (this is a bug in netgen)", name, e.Name, e.Value))
				return
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString(Header(r.plan))
	if _, err := io.Copy(&buf, unit.SerializeSections(secs)); err != nil {
		r.fail(err)
		return
	}
	r.files = append(r.files, File{Dir: dir, Name: name, Data: buf.Bytes(), Mode: 0o644})
}

func (r *renderer) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func itoa(p *int) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

func nonzero(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// FileBase is the name, without extension, of the networkd files of a link
// networkd owns: its kind and name, or for an uplink matched by MAC, the
// MAC with its colons (no interface name has one, so it never meets an
// uplink named 02aabbccddee).
func FileBase(lab string, l *generator.Link) string {
	if l.MatchMAC != "" {
		return names.NetworkFile(lab, names.KindUplink, l.MatchMAC)
	}
	return names.NetworkFile(lab, l.Kind.String(), l.Name)
}

// networkd writes the .netdev (for what networkd creates) and the .network
// of a link networkd owns.
func (r *renderer) networkd(l *generator.Link) {
	base := FileBase(r.plan.Lab, l)
	var kind string
	switch l.Kind.String() {
	case "bridge", "tap", "vlan":
		kind = l.Kind.String()
	case "veth":
		if l.Creator {
			kind = "veth"
		}
	}
	if kind != "" {
		nd := newSection("NetDev").add("Name", l.Name).add("Kind", kind)
		if kind == "bridge" || kind == "vlan" {
			nd.add("MTUBytes", nonzero(l.MTU))
		}
		if kind != "tap" {
			nd.add("MACAddress", l.MAC)
		}
		var extra *section
		switch kind {
		case "bridge":
			b := l.Bridge
			extra = newSection("Bridge").add("STP", yesno(b.STP)).add("Priority", itoa(b.Priority)).
				add("ForwardDelaySec", itoa(b.ForwardDelay)).add("HelloTimeSec", itoa(b.HelloTime)).
				add("MaxAgeSec", itoa(b.MaxAge)).add("AgeingTimeSec", itoa(b.AgeingTime))
			if b.VLANFiltering {
				extra.add("VLANFiltering", "yes")
			}
			if b.DefaultPVID != nil {
				if *b.DefaultPVID == 0 {
					extra.add("DefaultPVID", "none")
				} else {
					extra.add("DefaultPVID", itoa(b.DefaultPVID))
				}
			}
			extra.add("GroupForwardMask", itoa(b.GroupForwardMask))
		case "tap":
			extra = newSection("Tap").add("User", l.Tap.User).add("Group", l.Tap.Group)
			if l.Tap.MultiQueue {
				extra.add("MultiQueue", "yes")
			}
		case "vlan":
			extra = newSection("VLAN").add("Id", fmt.Sprint(l.VID))
		case "veth":
			// networkd 252 knows no [Peer] MTUBytes=: each end's MTU goes in
			// its .network, where the ends may differ.
			extra = newSection("Peer").add("Name", l.Peer.Name).add("MACAddress", l.Peer.MAC)
		}
		r.write(NetworkDir, base+".netdev", nd, extra)
	}

	match := newSection("Match")
	if l.MatchMAC != "" {
		match.add("MACAddress", l.MatchMAC)
	} else {
		match.add("Name", l.Name)
	}
	link := newSection("Link")
	netw := newSection("Network")
	switch l.Kind.String() {
	case "uplink", "veth":
		link.add("MTUBytes", nonzero(l.MTU))
	case "tap":
		// networkd ignores a tap's MTU and MAC in the .netdev.
		link.add("MACAddress", l.MAC).add("MTUBytes", nonzero(l.MTU))
	}
	if l.Kind.String() != "uplink" {
		// Lab links are not the host's way out: boot must not wait for them.
		link.add("RequiredForOnline", "no")
	}
	if l.Master != nil {
		netw.add("Bridge", l.Master.Name)
	}
	vlans := append([]*generator.Link(nil), l.VLANs...)
	sort.Slice(vlans, func(i, j int) bool { return vlans[i].Name < vlans[j].Name })
	for _, v := range vlans {
		netw.add("VLAN", v.Name)
	}
	if !l.LinkLocal {
		netw.add("LinkLocalAddressing", "no")
	}
	// A lab must not let its namespaces' routers steer the host by RA.
	netw.add("IPv6AcceptRA", "no")
	if l.Kind.String() != "uplink" {
		// Like `ip`, configure a lab link whether or not its peer is up yet
		// (a tap nobody has opened never has carrier).
		netw.add("ConfigureWithoutCarrier", "yes")
	}
	if l.External {
		// Another program takes the link over: keep what it configures.
		netw.add("KeepConfiguration", "yes")
	}
	sections := []*section{match, link, netw}
	for _, a := range l.Addresses {
		s := newSection("Address").add("Address", a.String())
		if a.Addr().Is6() {
			s.add("DuplicateAddressDetection", "none")
		}
		sections = append(sections, s)
	}
	for _, rt := range l.Routes {
		s := newSection("Route")
		if rt.To.Bits() != 0 || !rt.Via.IsValid() {
			s.add("Destination", rt.To.String())
		}
		if rt.Via.IsValid() {
			s.add("Gateway", rt.Via.String())
		}
		if rt.OnLink {
			s.add("GatewayOnLink", "yes")
		}
		s.add("Metric", nonzero(rt.Metric))
		sections = append(sections, s)
	}
	if l.PortVLANs != nil {
		for _, e := range l.PortVLANs.Entries {
			vid := vidString(e)
			s := newSection("BridgeVLAN").add("VLAN", vid)
			if e.PVID {
				s.add("PVID", vid)
			}
			if e.Untagged {
				s.add("EgressUntagged", vid)
			}
			sections = append(sections, s)
		}
	}
	r.write(NetworkDir, base+".network", sections...)
}

func vidString(e generator.VLANEntry) string {
	if e.From == e.To {
		return fmt.Sprint(e.From)
	}
	return fmt.Sprintf("%d-%d", e.From, e.To)
}

// maxMatchLine keeps every line under go-systemd's 2048-byte line limit, so
// that the files re-read with unit.DeserializeSections; networkd adds up
// repeated Name= lines.
const maxMatchLine = 1000

// unmanaged writes the .network that tells networkd to leave alone the host
// links a unit owns, before any catch-all .network can match them.
func (r *renderer) unmanaged(u *generator.Unit) {
	var ifaces []string
	for _, l := range u.Links {
		if l.NS == "" {
			ifaces = append(ifaces, l.Name)
		}
	}
	if len(ifaces) == 0 {
		return
	}
	sort.Strings(ifaces)
	match := newSection("Match")
	line := ""
	for _, n := range ifaces {
		if len(line)+len(n)+1 > maxMatchLine {
			match.add("Name", line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += n
	}
	match.add("Name", line)
	r.write(NetworkDir, names.UnmanagedFile(u.Name)+".network", match, newSection("Link").add("Unmanaged", "yes"))
}

func (r *renderer) target() {
	unitSec := newSection("Unit").add("Description", fmt.Sprintf("netgen lab %s", r.plan.Lab))
	install := newSection("Install").add("WantedBy", "multi-user.target")
	r.write(UnitDir, r.plan.Target, unitSec, install)
}
