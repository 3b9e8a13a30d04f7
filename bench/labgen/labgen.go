// Package labgen writes synthetic labs for netgen's benchmarks: as many
// namespaces, veths, bridges, uplinks and VLANs as asked for, with unique
// names and addresses, so that a benchmark measures netgen on a lab of a
// known shape and size rather than on whatever example happens to exist.
//
// Two shapes cover the figures in docs/performance.md:
//
//   - namespaces (Spec.Namespaces > 0): every namespace has eth0, a veth to a
//     host bridge (at most PortsPerBridge namespaces per bridge, below the
//     kernel's 1024 ports), and optionally a veth to the next namespace. Each
//     host bridge has a host veth whose outer end carries the host's address
//     on that segment: the host every namespace pings in the bring-up figure.
//   - host VLANs (Spec.VLANs > 0): uplinks, VLANs spread over them round
//     robin, and bridges that take the VLANs as ports, one address each. It
//     is a topology netplan can describe too, and Netplan writes the same
//     topology as netplan YAML for the side-by-side build figure.
//
// Both shapes may be combined in one lab. Output is deterministic: the same
// Spec always gives the same bytes.
package labgen

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Spec is the size and shape of a synthetic lab.
type Spec struct {
	// Name is the lab name (and the prefix of every unit name).
	Name string

	// Namespaces is the number of namespaces, each with a veth to a host
	// bridge.
	Namespaces int
	// PortsPerBridge caps the namespaces per host bridge (default 1000: the
	// kernel refuses a bridge's 1025th port).
	PortsPerBridge int
	// Neighbours adds a veth from every namespace to the next one (a chain),
	// with a /31 on each end. Each such veth is owned by a link unit.
	Neighbours bool
	// NoHostVeth leaves out the host's veth on each namespace bridge (then
	// nothing in the host has an address on the namespaces' segments).
	NoHostVeth bool

	// Uplinks is the number of existing host NICs (eth0, eth1, ...) the
	// VLANs ride on.
	Uplinks int
	// VLANs is the number of VLAN sub-interfaces, spread round robin over
	// the uplinks (ids from 100 up on each uplink).
	VLANs int
	// VLANBridges is the number of host bridges that take the VLANs as
	// ports (VLANs/VLANBridges each, in order), each with one address. 0
	// leaves the VLANs unbridged, with an address each.
	VLANBridges int

	// The features whose cost docs/performance.md gives a line each, on
	// the namespace shape:
	//
	// Services gives every namespace a service (`sleep infinity`), a unit
	// of its own after its namespace's.
	Services bool
	// Netem impairs every namespace's eth0 (1 ms delay): a qdisc per
	// namespace (sch_netem).
	Netem bool
	// Wires adds, for every two namespaces, a veth from each into
	// namespace "wire" and a wire joining the two ends there, so the two
	// namespaces share a /30 through it.
	Wires bool
	// Machines spreads the lab over that many machines (m1, m2, ...):
	// the namespace bridge is stretched over all of them (VXLAN), the
	// namespaces go round robin, the host veth is on m1.
	Machines int
}

// Defaults fills in what a Spec leaves out.
func (s Spec) Defaults() Spec {
	if s.Name == "" {
		s.Name = "bench"
	}
	if s.PortsPerBridge <= 0 {
		s.PortsPerBridge = 1000
	}
	if s.VLANs > 0 && s.Uplinks <= 0 {
		s.Uplinks = 1
	}
	return s
}

// Check reports a Spec that cannot give a valid lab.
func (s Spec) Check() error {
	s = s.Defaults()
	switch {
	case s.Namespaces < 0 || s.VLANs < 0 || s.Uplinks < 0 || s.VLANBridges < 0:
		return fmt.Errorf("labgen: sizes cannot be negative")
	case s.PortsPerBridge > 1000:
		return fmt.Errorf("labgen: at most 1000 namespaces per bridge (the kernel allows 1024 ports)")
	case s.Uplinks > 0 && s.VLANs > s.Uplinks*3994:
		return fmt.Errorf("labgen: %d uplinks carry at most %d VLANs", s.Uplinks, s.Uplinks*3994)
	case s.VLANBridges > 0 && s.VLANBridges > s.VLANs:
		return fmt.Errorf("labgen: %d bridges need at least as many VLANs", s.VLANBridges)
	case s.VLANBridges > 32768:
		return fmt.Errorf("labgen: at most 32768 VLAN bridges (10.128.0.0/9 in /24s)")
	case s.NSBridges() > 127:
		return fmt.Errorf("labgen: at most 127 namespace bridges (10.1.0.0/16 to 10.127.0.0/16); raise -ports-per-bridge")
	case (s.Services || s.Netem || s.Wires || s.Machines > 0) && s.Namespaces == 0:
		return fmt.Errorf("labgen: services, netem, wires and machines are features of the namespace shape (-namespaces)")
	case s.Machines > 0 && s.VLANs > 0:
		return fmt.Errorf("labgen: machines and VLANs do not combine (uplinks would need a machine)")
	case s.Wires && s.Namespaces > 2*16384:
		return fmt.Errorf("labgen: wires address at most 32768 namespaces (10.200.0.0/14 in /30s)")
	case s.VLANs > 1<<18:
		return fmt.Errorf("labgen: at most %d VLANs (172.16.0.0/12 in /30s)", 1<<18)
	}
	return nil
}

// NSName is the name of namespace i (0-based).
func NSName(i int) string { return fmt.Sprintf("ns%d", i) }

// NSAddr is the address of namespace i on its host bridge's segment: bridge
// b = i/PortsPerBridge has 10.(b+1).0.0/16, the host is .0.1 and the
// namespaces start at .0.2.
func (s Spec) NSAddr(i int) netip.Prefix {
	s = s.Defaults()
	b, j := i/s.PortsPerBridge, i%s.PortsPerBridge+2
	return prefix4(10, byte(b+1), byte(j>>8), byte(j), 16)
}

// HostAddr is the host's address on namespace bridge b.
func (s Spec) HostAddr(b int) netip.Prefix { return prefix4(10, byte(b+1), 0, 1, 16) }

// NSBridges is the number of host bridges the namespaces hang off.
func (s Spec) NSBridges() int {
	s = s.Defaults()
	return (s.Namespaces + s.PortsPerBridge - 1) / s.PortsPerBridge
}

// NSBridge is the name of namespace bridge b.
func NSBridge(b int) string { return fmt.Sprintf("nsbr%d", b) }

// HostVeth is the host's end with the address on namespace bridge b. (Not
// "host0": systemd's 80-container-host0.network would claim that name in a
// container.)
func HostVeth(b int) string { return fmt.Sprintf("hv%d", b) }

// HostPort is the bridge port of the host's veth on namespace bridge b.
func HostPort(b int) string { return fmt.Sprintf("hv%dbr", b) }

// NSPort is the host end of namespace i's veth, on its bridge.
func NSPort(i int) string { return fmt.Sprintf("v%d", i) }

func prefix4(a, b, c, d byte, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{a, b, c, d}), bits)
}

// neighbourAddr is end e (0 or 1) of the chain veth between namespaces i
// and i+1: a /31 from 100.64.0.0/10.
func neighbourAddr(i, e int) netip.Prefix {
	n := 2*i + e
	return prefix4(100, byte(64+n>>16), byte(n>>8), byte(n), 31)
}

// Machine is the name of machine m (0-based): m1, m2, ...
func Machine(m int) string { return fmt.Sprintf("m%d", m+1) }

// WireNS is the namespace that holds the wires' ends (Spec.Wires).
const WireNS = "wire"

// wireAddr is host h (1 or 2) of the /30 of wire k, from 10.200.0.0/14.
func wireAddr(k, h int) netip.Prefix {
	n := 10<<24 | 200<<16 | 4*k + h
	return prefix4(byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 30)
}

// Uplink is the name of uplink u.
func Uplink(u int) string { return fmt.Sprintf("eth%d", u) }

// VLAN returns the parent uplink and id of VLAN v.
func (s Spec) VLAN(v int) (parent string, id int) {
	s = s.Defaults()
	return Uplink(v % s.Uplinks), 100 + v/s.Uplinks
}

// VLANBridge is the name of VLAN bridge b.
func VLANBridge(b int) string { return fmt.Sprintf("br%d", b) }

// vlanBridgeOf is the bridge VLAN v joins.
func (s Spec) vlanBridgeOf(v int) int {
	per := (s.VLANs + s.VLANBridges - 1) / s.VLANBridges
	return v / per
}

// vlanBridgeAddr is VLAN bridge b's address: a /24 from 10.128.0.0/9, which
// the namespace segments (10.1.0.0/16 to 10.127.0.0/16) never reach.
func vlanBridgeAddr(b int) netip.Prefix { return prefix4(10, byte(128+b>>8), byte(b), 1, 24) }

// vlanAddr is the address of unbridged VLAN v: a /30 from 172.16.0.0/12.
func vlanAddr(v int) netip.Prefix {
	n := 172<<24 | 16<<16 | 4*v + 1
	return prefix4(byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 30)
}

// Write writes the spec as a netgen lab.
func (s Spec) Write(w io.Writer) error {
	if err := s.Check(); err != nil {
		return err
	}
	s = s.Defaults()
	b := &strings.Builder{}
	fmt.Fprintf(b, "# Synthetic lab written by bench/labgen: %s.\n", s.describe())
	fmt.Fprintf(b, "version: 1\nname: %s\n", s.Name)
	// host names a root-namespace interface of namespace i's machine (of
	// m1 for i < 0).
	host := func(i int, name string) string {
		if s.Machines == 0 {
			return name
		}
		if i < 0 {
			i = 0
		}
		return fmt.Sprintf("%s:%s", Machine(i%s.Machines), name)
	}
	if s.Machines > 0 {
		b.WriteString("machines:\n")
		for m := 0; m < s.Machines; m++ {
			fmt.Fprintf(b, "  %s: {underlay: %s}\n", Machine(m), prefix4(10, 99, byte(m>>8), byte(m+1), 32).Addr())
		}
	}
	if s.Namespaces > 0 {
		b.WriteString("namespaces:\n")
		for i := 0; i < s.Namespaces; i++ {
			var opts []string
			if s.Machines > 0 {
				opts = append(opts, "machine: "+Machine(i%s.Machines))
			}
			if s.Services {
				opts = append(opts, "services: {idle: {exec: [sleep, infinity]}}")
			}
			fmt.Fprintf(b, "  %s: {%s}\n", NSName(i), strings.Join(opts, ", "))
		}
		if s.Wires && s.Machines > 0 {
			fmt.Fprintf(b, "  %s: {machine: %s}\n", WireNS, Machine(0))
		} else if s.Wires {
			fmt.Fprintf(b, "  %s: {}\n", WireNS)
		}
	}
	if s.Namespaces > 0 || s.VLANBridges > 0 {
		b.WriteString("bridges:\n")
		for i := 0; i < s.NSBridges(); i++ {
			if s.Machines > 0 {
				var ms []string
				for m := 0; m < s.Machines; m++ {
					ms = append(ms, Machine(m))
				}
				fmt.Fprintf(b, "  %s: {machines: [%s]}\n", NSBridge(i), strings.Join(ms, ", "))
				continue
			}
			fmt.Fprintf(b, "  %s: {}\n", NSBridge(i))
		}
		for i := 0; i < s.VLANBridges; i++ {
			fmt.Fprintf(b, "  %s: {addresses: [%s]}\n", VLANBridge(i), vlanBridgeAddr(i))
		}
	}
	if s.Namespaces > 0 {
		b.WriteString("veths:\n")
		if !s.NoHostVeth {
			for i := 0; i < s.NSBridges(); i++ {
				fmt.Fprintf(b, "  - [{name: %s, addresses: [%s]}, {name: %s, bridge: %s}]\n",
					host(-1, HostVeth(i)), s.HostAddr(i), host(-1, HostPort(i)), NSBridge(i))
			}
		}
		for i := 0; i < s.Namespaces; i++ {
			netem := ""
			if s.Netem {
				netem = ", netem: {delay: 1ms}"
			}
			fmt.Fprintf(b, "  - [{name: %s:eth0, addresses: [%s]%s}, {name: %s, bridge: %s}]\n",
				NSName(i), s.NSAddr(i), netem, host(i, NSPort(i)), NSBridge(i/s.PortsPerBridge))
		}
		if s.Wires {
			for i := 0; i+1 < s.Namespaces; i += 2 {
				k := i / 2
				fmt.Fprintf(b, "  - [{name: %s:w, addresses: [%s]}, %s:a%d]\n", NSName(i), wireAddr(k, 1), WireNS, k)
				fmt.Fprintf(b, "  - [{name: %s:w, addresses: [%s]}, %s:b%d]\n", NSName(i+1), wireAddr(k, 2), WireNS, k)
			}
		}
		if s.Neighbours {
			for i := 0; i+1 < s.Namespaces; i++ {
				fmt.Fprintf(b, "  - [{name: %s:east, addresses: [%s]}, {name: %s:west, addresses: [%s]}]\n",
					NSName(i), neighbourAddr(i, 0), NSName(i+1), neighbourAddr(i, 1))
			}
		}
	}
	if s.Wires {
		b.WriteString("wires:\n")
		for k := 0; 2*k+1 < s.Namespaces; k++ {
			fmt.Fprintf(b, "  - [%[1]s:a%[2]d, %[1]s:b%[2]d]\n", WireNS, k)
		}
	}
	if s.VLANs > 0 {
		b.WriteString("vlans:\n")
		for v := 0; v < s.VLANs; v++ {
			parent, id := s.VLAN(v)
			if s.VLANBridges > 0 {
				fmt.Fprintf(b, "  - {parent: %s, id: %d, bridge: %s}\n", parent, id, VLANBridge(s.vlanBridgeOf(v)))
			} else {
				fmt.Fprintf(b, "  - {parent: %s, id: %d, addresses: [%s]}\n", parent, id, vlanAddr(v))
			}
		}
		b.WriteString("uplinks:\n")
		for u := 0; u < s.Uplinks; u++ {
			fmt.Fprintf(b, "  - {interface: %s}\n", Uplink(u))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Netplan writes the host VLAN part of the spec as netplan YAML (version 2,
// networkd renderer): the same uplinks, VLANs, bridges and addresses.
// Namespaces have no netplan equivalent, so a spec with namespaces is
// refused.
func (s Spec) Netplan(w io.Writer) error {
	if err := s.Check(); err != nil {
		return err
	}
	s = s.Defaults()
	if s.Namespaces > 0 {
		return fmt.Errorf("labgen: netplan has no namespaces; use a spec with only uplinks, VLANs and bridges")
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "# Synthetic netplan configuration written by bench/labgen: %s.\n", s.describe())
	b.WriteString("network:\n  version: 2\n  renderer: networkd\n")
	if s.Uplinks > 0 {
		b.WriteString("  ethernets:\n")
		for u := 0; u < s.Uplinks; u++ {
			fmt.Fprintf(b, "    %s: {}\n", Uplink(u))
		}
	}
	if s.VLANs > 0 {
		b.WriteString("  vlans:\n")
		for v := 0; v < s.VLANs; v++ {
			parent, id := s.VLAN(v)
			if s.VLANBridges > 0 {
				fmt.Fprintf(b, "    %s.%d: {id: %d, link: %s}\n", parent, id, id, parent)
			} else {
				fmt.Fprintf(b, "    %s.%d: {id: %d, link: %s, addresses: [%s]}\n", parent, id, id, parent, vlanAddr(v))
			}
		}
	}
	if s.VLANBridges > 0 {
		ports := make([][]string, s.VLANBridges)
		for v := 0; v < s.VLANs; v++ {
			parent, id := s.VLAN(v)
			br := s.vlanBridgeOf(v)
			ports[br] = append(ports[br], fmt.Sprintf("%s.%d", parent, id))
		}
		b.WriteString("  bridges:\n")
		for i := 0; i < s.VLANBridges; i++ {
			fmt.Fprintf(b, "    %s: {interfaces: [%s], addresses: [%s]}\n", VLANBridge(i), strings.Join(ports[i], ", "), vlanBridgeAddr(i))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s Spec) describe() string {
	var parts []string
	if s.Namespaces > 0 {
		p := fmt.Sprintf("%d namespaces on %d host bridge", s.Namespaces, s.NSBridges())
		if s.NSBridges() > 1 {
			p += "s"
		}
		if s.Neighbours {
			p += ", chained by veths"
		}
		for _, f := range []struct {
			on   bool
			name string
		}{{s.Services, "a service each"}, {s.Netem, "netem on each"}, {s.Wires, "wired in pairs"}} {
			if f.on {
				p += ", " + f.name
			}
		}
		if s.Machines > 0 {
			p += fmt.Sprintf(", over %d machines", s.Machines)
		}
		parts = append(parts, p)
	}
	if s.VLANs > 0 {
		p := fmt.Sprintf("%d VLANs over %d uplinks", s.VLANs, s.Uplinks)
		if s.VLANBridges > 0 {
			p += fmt.Sprintf(" as ports of %d bridges", s.VLANBridges)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, "; ")
}
