// Package schema holds the lab format (version 1): the Go types of a lab,
// decoding from YAML with the position of every value, and validation that
// collects every problem of a lab before anything is generated.
//
// Decode never fails on the first problem: it records a diagnostic, skips the
// offending value and goes on, so that `netgen validate` can list everything
// at once. Validate assumes nothing about what Decode could not read.
package schema

import (
	"net/netip"
	"strconv"

	"github.com/netgen-lab/netgen/diag"
)

// Pos is a position in the lab file.
type Pos = diag.Pos

// HostNS is the name that stands for the host's root namespace in references.
const HostNS = "host"

// Str is a string value with its position.
type Str struct {
	Value string
	Pos   Pos
	Set   bool
}

// Int is an integer value with its position.
type Int struct {
	Value int
	Pos   Pos
	Set   bool
}

// Bool is a boolean value with its position.
type Bool struct {
	Value bool
	Pos   Pos
	Set   bool
}

// Ref is an interface reference `[NAMESPACE:]IFNAME`. NS is "" for the host.
type Ref struct {
	NS, If string
	Pos    Pos
	// NSPos and IfPos point at the two parts, so that an error about the
	// namespace puts its caret under the namespace.
	NSPos, IfPos Pos
	Set          bool
}

// String prints the reference the way users write it.
func (r Ref) String() string {
	if r.NS == "" {
		return r.If
	}
	return r.NS + ":" + r.If
}

// Key identifies an interface: namespace ("" for host) and name.
type Key struct{ NS, If string }

// Key returns the interface key of a reference.
func (r Ref) Key() Key { return Key{r.NS, r.If} }

func (k Key) String() string {
	if k.NS == "" {
		return k.If
	}
	return k.NS + ":" + k.If
}

// Lab is a decoded lab file.
type Lab struct {
	// File is the name diagnostics use for the lab ("-" is shown as "<stdin>").
	File    string
	Version Int
	// Name is the lab name, defaulted from the file name when the lab does
	// not set one (Name.Set is then false).
	Name       Str
	Namespaces []*Namespace
	Bridges    []*Bridge
	Veths      []*Veth
	VLANs      []*VLAN
	Taps       []*Tap
	Uplinks    []*Uplink
	// Machines are the lab's machines (machines.go); none for a lab of one.
	Machines []*Machine
	// Tunnels are the VXLAN ports of stretched bridges in one machine's
	// part of a lab (Project); never decoded.
	Tunnels []*Tunnel
	// Part is the machine whose part of a lab this is (Project).
	Part  string
	Wires []*Wire
	// DNS is the lab-wide `dns`: defaults for every namespace (services.go).
	DNS     *DNS
	Bonds   []*Bond
	Dummies []*Dummy
	VRFs    []*VRF
	// Pools are the address pools of automatic addressing (`pools:`).
	Pools []*Pool
}

// Namespace is a named network namespace.
type Namespace struct {
	Name     Str
	Loopback Bool
	Sysctls  []Sysctl
	// Machine is the machine the namespace is on (labs with machines).
	Machine Str
	// Services are the programs run inside the namespace (services.go).
	Services []*Service
	// DNS is the namespace's own `dns`, replacing the lab's key by key.
	DNS *DNS
}

// Sysctl is one `net.*` key set inside a namespace.
type Sysctl struct {
	Key, Value Str
}

// L3 holds what makes an interface a host on a subnet.
type L3 struct {
	Addresses []Address
	Gateway   IP
	Routes    []Route
	// Masquerade is `masquerade:` as written: true, false, ipv4 or ipv6
	// (masquerade.go).
	Masquerade Str
	// Auto is `addresses: auto` and GatewayAuto `gateway: auto`: the
	// allocator (package alloc) fills Addresses and Gateway before the lab
	// is generated.
	Auto, GatewayAuto Bool
}

// HasAny reports whether any layer-3 setting is present.
func (l L3) HasAny() bool { return len(l.Addresses) > 0 || l.Gateway.Set || len(l.Routes) > 0 }

// Address is an interface address in CIDR notation (host bits kept).
type Address struct {
	Prefix netip.Prefix
	Pos    Pos
}

// IP is a single address such as a gateway.
type IP struct {
	Addr netip.Addr
	Pos  Pos
	Set  bool
}

// Route is a static route through the interface it is written on.
type Route struct {
	Pos Pos
	// To is the destination; Default is set for `to: default`.
	To      netip.Prefix
	Default bool
	ToPos   Pos
	Via     IP
	Metric  Int
}

// Port holds what makes an interface a bridge port.
type Port struct {
	Bridge Str
	VLAN   *PortVLAN
	// Opts are the port's `port:` settings, nil when there are none.
	Opts *PortOpts
}

// PortVLAN is the VLAN membership of a port on a VLAN-filtering bridge.
type PortVLAN struct {
	Pos    Pos
	Access Int
	Trunk  []VIDRange
	// TrunkPos is where the trunk list is written.
	TrunkPos Pos
	TrunkSet bool
	Native   Int
}

// VIDRange is an inclusive range of VLAN ids; a single id has From == To.
type VIDRange struct {
	From, To int
	Pos      Pos
}

// Link holds the link settings every interface may have.
type Link struct {
	MTU Int
	MAC Str
}

// End is one end of a veth pair.
type End struct {
	Pos  Pos
	Name Ref
	L3
	Port
	Link
	External Bool
	Netem    *Netem
}

// Veth is a veth pair. MTU is the entry-level MTU of the map form, which
// applies to both ends unless an end sets its own.
type Veth struct {
	Pos  Pos
	Ends [2]*End
	MTU  Int
	// Tunnel is set by Project on a veth whose other end is on another
	// machine: Ends[0] is this machine's end, Ends[1] is nil.
	Tunnel *Tunnel
	// VXLAN is a cable between machines' given VNI and UDP port (map
	// form).
	VXLAN VXLANKeys
	// Netem is the entry-level impairment, for both ends unless an end
	// sets its own.
	Netem *Netem
	// Pool is the entry-level `pool:` of the map form: the cable's subnet
	// and both ends' addresses come from it.
	Pool Str
}

// VLAN is an 802.1Q sub-interface.
type VLAN struct {
	Pos    Pos
	Parent Ref
	ID     Int
	// Name is the IFNAME given by the lab; see IfName for the effective one.
	Name Str
	L3
	Port
	Link
	Netem *Netem
	// Pool gives the sub-interface's segment a subnet (`pool:`).
	Pool Str
}

// IfName is the sub-interface's name: the given one or PARENT.ID.
func (v *VLAN) IfName() string {
	if v.Name.Set {
		return v.Name.Value
	}
	return v.Parent.If + "." + strconv.Itoa(v.ID.Value)
}

// Key is where the sub-interface lives: the parent's namespace.
func (v *VLAN) Key() Key { return Key{v.Parent.NS, v.IfName()} }

// Tap is a persistent tap device.
type Tap struct {
	Pos        Pos
	Name       Ref
	User       Str
	Group      Str
	MultiQueue Bool
	L3
	Port
	Link
	Netem *Netem
}

// Uplink is an existing host interface joined to the lab.
type Uplink struct {
	Pos       Pos
	Interface Str
	MAC       Str
	Port
	MTU Int
}

// Bridge is a Linux bridge.
type Bridge struct {
	Name Str
	// Namespace is "" for the host.
	Namespace     Str
	STP           Bool
	Priority      Int
	ForwardDelay  Int
	HelloTime     Int
	MaxAge        Int
	AgeingTime    Int
	VLANFiltering Bool
	// DefaultPVID is the PVID of ports that set none; NoDefaultPVID is `none`.
	DefaultPVID      Int
	NoDefaultPVID    bool
	GroupForwardMask Int
	Link
	L3
	// Machine or Machines place a root-namespace bridge in a lab with
	// machines; several machines stretch it.
	Machine     Str
	Machines    []Str
	MachinesPos Pos
	// VXLAN is a stretched bridge's given VNI and UDP port.
	VXLAN VXLANKeys
	// Pool gives every segment the bridge switches a subnet (`pool:`).
	Pool Str
}

// VXLANKeys are the `vni` and `vxlan-port` a lab may give a cable between
// machines or a stretched bridge instead of the derived ones.
type VXLANKeys struct {
	VNI  Int
	Port Int
}

// NS returns the bridge's namespace, "" for the host.
func (b *Bridge) NS() string { return b.Namespace.Value }

// PVID is the bridge's default PVID, 0 when there is none.
func (b *Bridge) PVID() int {
	if b.NoDefaultPVID {
		return 0
	}
	if b.DefaultPVID.Set {
		return b.DefaultPVID.Value
	}
	return 1
}

// describe names the uplink in messages: its interface, or "with MAC X".
func (u *Uplink) describe() string {
	if u.Interface.Set {
		return u.Interface.Value
	}
	return "with MAC " + u.MAC.Value
}

// Bond is a bonding device over member interfaces of its namespace.
type Bond struct {
	Pos     Pos
	Name    Ref
	Members []Ref
	// MembersPos is where the member list is written.
	MembersPos     Pos
	Mode           Str
	LACPRate       Str
	XmitHashPolicy Str
	MIIMon         Int
	L3
	Port
	Link
}

// Dummy is a dummy interface: always up, a home for addresses (a router's
// loopback).
type Dummy struct {
	Pos  Pos
	Name Ref
	L3
	Link
}

// VRF is a VRF device: its members' addresses and routes go into its table.
type VRF struct {
	Pos        Pos
	Name       Ref
	Table      Int
	Members    []Ref
	MembersPos Pos
}

// PortOpts are the per-port settings of a bridge port (`port:`). Unset
// values leave the kernel's default.
type PortOpts struct {
	Pos       Pos
	Cost      Int
	Priority  Int
	Isolated  Bool
	Learning  Bool
	Flood     Bool
	Hairpin   Bool
	BPDUGuard Bool
	RootGuard Bool
}
