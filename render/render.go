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
	"github.com/netgen-lab/netgen/schema"
)

// Dir says which output directory a file belongs to.
type Dir int

const (
	// NetworkDir is systemd-networkd's configuration directory (-o).
	NetworkDir Dir = iota
	// UnitDir is the systemd unit directory (--unit-dir).
	UnitDir
	// NetnsDir is /etc/netns (names.NetnsDir): a file's Name is NS/FILE.
	NetnsDir
)

func (d Dir) String() string {
	switch d {
	case UnitDir:
		return "unit"
	case NetnsDir:
		return "netns"
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
		r.keepMACs(u)
		r.unit(u)
	}
	if p.Target != "" {
		r.target()
	}
	r.services()
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
type section struct {
	s *unit.UnitSection
	// quoted are entries whose value was escaped for systemd (services.go).
	quoted map[*unit.UnitEntry]bool
}

func newSection(name string) *section { return &section{s: &unit.UnitSection{Section: name}} }

func (s *section) add(name, value string) *section {
	if value != "" {
		s.s.Entries = append(s.s.Entries, &unit.UnitEntry{Name: name, Value: value})
	}
	return s
}

// unitNameValue is the value with the one escape a unit name may carry,
// names.Escape's `\x2d`, taken out where the key lists unit names:
// systemd keeps it as written there (it is how device units are named), and
// nowhere else may a backslash reach a file.
func unitNameValue(e *unit.UnitEntry) string {
	switch e.Name {
	case "Wants", "Requires", "After", "Before", "PartOf", "BindsTo", "WantedBy", "RequiredBy":
		return strings.ReplaceAll(e.Value, `\x2d`, "")
	}
	return e.Value
}

func (s *section) empty() bool { return len(s.s.Entries) == 0 }

func (r *renderer) write(dir Dir, name string, sections ...*section) {
	var secs []*unit.UnitSection
	for _, s := range sections {
		if s != nil && !s.empty() {
			secs = append(secs, s.s)
		}
	}
	for _, s := range sections {
		if s == nil {
			continue
		}
		for _, e := range s.s.Entries {
			bad := "\n\r\\%"
			if s.quoted[e] {
				// Quoted by systemdWords/systemdQuote: every "\" and "%"
				// there is an escape it wrote.
				bad = "\n\r"
			}
			if strings.ContainsAny(unitNameValue(e), bad) || strings.ContainsAny(e.Name, "\n\r=") {
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

// kernelBridgeMTU is the MTU the kernel gives a new bridge (ETH_DATA_LEN).
const kernelBridgeMTU = 1500

// bridgeCreateMTU is the MTU to create a bridge with (0: the kernel's),
// when the lab sets its MTU to mtu; the MTU itself is set afterwards, by
// the unit's `link set dev BR mtu N` or networkd's [Link] MTUBytes=.
//
// Why: the kernel moves a bridge's MTU to the smallest of its ports'
// whenever a port joins or changes its MTU, unless the MTU was changed after
// creation (br_change_mtu sets BROPT_MTU_SET_BY_USER). An MTU given at
// creation (`ip link add ... mtu`, a .netdev's MTUBytes=) is no such change,
// and neither is setting the MTU the bridge already has (the kernel, and
// networkd, skip it): a bridge created with MTU 1400 was back at 1500 as
// soon as its first 1500-byte port joined. So a bridge that must end at the
// kernel's 1500 is created at 1280 (IPv6's minimum: IPv6 stays on), any
// other at the kernel's 1500.
func bridgeCreateMTU(mtu int) int {
	if mtu == kernelBridgeMTU {
		return 1280
	}
	return 0
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
	if l.HasNetdev() {
		r.write(NetworkDir, base+".netdev", netdevSections(l)...)
	}
	r.write(NetworkDir, base+".network", networkSections(l)...)
}

// netdevSections are the [NetDev] section and the kind's own section of a
// .netdev; networkd's Kind= words are the lab's.
func netdevSections(l *generator.Link) []*section {
	nd := newSection("NetDev").add("Name", l.Name).add("Kind", l.Kind.String())
	switch l.Kind {
	case schema.KindBridge:
		// The .network sets the MTU (see bridgeCreateMTU).
		nd.add("MTUBytes", nonzero(bridgeCreateMTU(l.MTU))).add("MACAddress", l.MAC)
		return []*section{nd, bridgeSection(l.Bridge)}
	case schema.KindTap:
		// networkd ignores a tap's MTU and MAC here: the .network sets them.
		t := newSection("Tap").add("User", l.Tap.User).add("Group", l.Tap.Group)
		if l.Tap.MultiQueue {
			t.add("MultiQueue", "yes")
		}
		return []*section{nd, t}
	case schema.KindVLAN:
		nd.add("MTUBytes", nonzero(l.MTU)).add("MACAddress", l.MAC)
		return []*section{nd, newSection("VLAN").add("Id", fmt.Sprint(l.VID))}
	case schema.KindVXLAN:
		nd.add("MTUBytes", nonzero(l.MTU)).add("MACAddress", l.MAC)
		return []*section{nd, vxlanSection(l.VXLAN)}
	case schema.KindBond:
		nd.add("MTUBytes", nonzero(l.MTU)).add("MACAddress", l.MAC)
		return []*section{nd, bondSection(l.BondOpts)}
	case schema.KindDummy:
		nd.add("MTUBytes", nonzero(l.MTU)).add("MACAddress", l.MAC)
		return []*section{nd}
	case schema.KindVRF:
		return []*section{nd, newSection("VRF").add("Table", fmt.Sprint(l.Table))}
	case schema.KindVeth:
		// networkd 252 knows no [Peer] MTUBytes=: each end's MTU goes in
		// its .network, where the ends may differ.
		nd.add("MACAddress", l.MAC)
		return []*section{nd, newSection("Peer").add("Name", l.Peer.Name).add("MACAddress", l.Peer.MAC)}
	}
	return []*section{nd}
}

func bridgeSection(b *generator.BridgeOpts) *section {
	s := newSection("Bridge").add("STP", yesno(b.STP)).add("Priority", itoa(b.Priority)).
		add("ForwardDelaySec", itoa(b.ForwardDelay)).add("HelloTimeSec", itoa(b.HelloTime)).
		add("MaxAgeSec", itoa(b.MaxAge)).add("AgeingTimeSec", itoa(b.AgeingTime))
	if b.VLANFiltering {
		s.add("VLANFiltering", "yes")
	}
	if pvid, ok := b.KernelDefaultPVID(); ok {
		if pvid == 0 {
			s.add("DefaultPVID", "none")
		} else {
			s.add("DefaultPVID", fmt.Sprint(pvid))
		}
	}
	return s.add("GroupForwardMask", itoa(b.GroupForwardMask))
}

// networkSections are the sections of a link's .network: which link, its
// link settings, its network settings, then one section per address,
// route and port VLAN.
func networkSections(l *generator.Link) []*section {
	match := newSection("Match")
	if l.MatchMAC != "" {
		match.add("MACAddress", l.MatchMAC)
	} else {
		match.add("Name", l.Name)
	}
	sections := []*section{match, linkSection(l), networkSection(l), portBridgeSection(l.PortOpts)}
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
		// networkd 252 takes a gateway on a link with no static address
		// as on-link anyway, with a warning about the file ("Gateway=
		// without static address configured"): say it in the file.
		if rt.OnLink || (rt.Via.IsValid() && len(l.Addresses) == 0) {
			s.add("GatewayOnLink", "yes")
		}
		s.add("Metric", nonzero(rt.Metric))
		s.add("Table", nonzero(routeTable(l)))
		sections = append(sections, s)
	}
	if l.Bridge != nil {
		// The bridge's own VLANs, for its VLAN sub-interfaces: networkd
		// sends a bridge's [BridgeVLAN] with BRIDGE_FLAGS_SELF. Its
		// default VLAN too, when the kernel gives it none (NoKernelPVID).
		if d := l.Bridge.SelfPVID(); d != 0 {
			vid := fmt.Sprint(d)
			sections = append(sections, newSection("BridgeVLAN").add("VLAN", vid).add("PVID", vid).add("EgressUntagged", vid))
		}
		for _, vid := range l.Bridge.SelfVLANs {
			sections = append(sections, newSection("BridgeVLAN").add("VLAN", fmt.Sprint(vid)))
		}
	}
	sections = append(sections, fdbSections(l)...)
	if ne := netemSection(l); ne != nil {
		sections = append(sections, ne)
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
	return sections
}

// linkSection is the .network's [Link]: the settings networkd applies to
// a link it did not create with them.
func linkSection(l *generator.Link) *section {
	s := newSection("Link")
	switch l.Kind {
	case schema.KindUplink, schema.KindVeth, schema.KindBridge, schema.KindVXLAN:
		s.add("MTUBytes", nonzero(l.MTU))
	case schema.KindTap:
		// networkd ignores a tap's MTU and MAC in the .netdev.
		s.add("MACAddress", l.MAC).add("MTUBytes", nonzero(l.MTU))
	}
	if l.Kind != schema.KindUplink {
		// Lab links are not the host's way out: boot must not wait for them.
		s.add("RequiredForOnline", "no")
	}
	return s
}

// networkSection is the .network's [Network]: bridge, VLANs on the link,
// addressing policy.
func networkSection(l *generator.Link) *section {
	s := newSection("Network")
	if key, name := masterKey(l); key != "" {
		s.add(key, name)
	}
	if l.VRF != nil {
		s.add("VRF", l.VRF.Name)
	}
	var vlans []*generator.Link
	for _, v := range l.VLANs {
		if v.Owner == nil {
			// Not one the host unit makes on a networkd bridge.
			vlans = append(vlans, v)
		}
	}
	sort.Slice(vlans, func(i, j int) bool { return vlans[i].Name < vlans[j].Name })
	for _, v := range vlans {
		s.add("VLAN", v.Name)
	}
	if !l.LinkLocal {
		s.add("LinkLocalAddressing", "no")
	}
	// A lab must not let its namespaces' routers steer the host by RA.
	s.add("IPv6AcceptRA", "no")
	s.add("IPMasquerade", ipMasquerade(l))
	if l.Kind != schema.KindUplink {
		// Like `ip`, configure a lab link whether or not its peer is up yet
		// (a tap nobody has opened never has carrier).
		s.add("ConfigureWithoutCarrier", "yes")
	}
	if l.External {
		// Another program takes the link over: keep what it configures.
		s.add("KeepConfiguration", "yes")
	}
	return s
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
	r.write(NetworkDir, names.UnmanagedFile(u.Name)+".network", matchNames("Name", ifaces), newSection("Link").add("Unmanaged", "yes"))
}

// keepMACs writes the .link that tells udev to leave alone the MACs of the
// host taps a unit creates (each has one, its own or a derived one,
// generator/mac.go). udev's 99-default.link (MACAddressPolicy=persistent)
// gives a link it sees appear with a random MAC one of its own. It skips a
// link whose MAC was set, so every other link a unit makes gets its MAC in
// its `link add`; but `ip tuntap add` takes no address, and when udev read
// the tap between `tuntap add` and `link set address` it overwrote netgen's
// MAC (booted under QEMU, where udev is slow: the tap had udev's MAC, not
// the lab's). Only the root namespace has udev, and only the taps are
// matched: a .link takes the place of 99-default.link for what it matches.
func (r *renderer) keepMACs(u *generator.Unit) {
	var taps []string
	for _, l := range u.Links {
		if l.NS == "" && l.Kind == schema.KindTap && l.MAC != "" {
			taps = append(taps, l.Name)
		}
	}
	if len(taps) == 0 {
		return
	}
	r.write(NetworkDir, names.UnmanagedFile(u.Name)+".link", matchNames("OriginalName", taps), newSection("Link").add("MACAddressPolicy", "none"))
}

// matchNames is a [Match] section that matches the interfaces by key, in
// as many lines as maxMatchLine needs (networkd and udev add them up).
func matchNames(key string, ifaces []string) *section {
	sort.Strings(ifaces)
	match := newSection("Match")
	line := ""
	for _, n := range ifaces {
		if len(line)+len(n)+1 > maxMatchLine {
			match.add(key, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += n
	}
	return match.add(key, line)
}

func (r *renderer) target() {
	unitSec := newSection("Unit").add("Description", fmt.Sprintf("netgen lab %s", r.plan.Lab))
	install := newSection("Install").add("WantedBy", "multi-user.target")
	r.write(UnitDir, r.plan.Target, unitSec, install)
}
