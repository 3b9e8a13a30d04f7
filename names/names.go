// Package names owns what marks a file or unit as netgen's, and whose lab
// it is: the names of a lab's units and networkd files, the first line of
// every generated file, and the parsing back of both. The generator, the
// renderer, install (prune, down, scan) and the tests all call it, so that
// "what belongs to lab X" has one answer.
//
// The scheme. A lab name is 1-32 bytes of a-z 0-9 - and never contains
// "_", so in
//
//	netgen-LAB.target
//	netgen-LAB_KIND[-NAME].service
//	50-netgen-LAB_KIND[-NAME].netdev / .network / .link
//
// the lab ends at the first "_", and KIND (a fixed word without "-", see
// the Kind constants) at the next "-" or ".": NAME is the rest, so a name
// is one lab's, one kind's, one object's, whatever the object is called.
// The names of one kind are unique within a lab: host interface names (a
// host has one of each), namespace names, MAC addresses with their colons
// (no interface name contains ":"), and the link unit's escaped pair.
//
// A link unit joins two namespace names with "--", and a namespace name
// may contain "--" itself ("a--b" with "c" and "a" with "b--c" would
// meet). So each name n is written E(n): n itself, unless n contains "--"
// or ends with "-"; then every "-" of n is written `\x2d`, systemd's own
// escape (`systemd-escape -u` reads it back). E(n) never contains "--" and
// never ends with "-", so the first "--" of E(A)--E(B) starts right after
// E(A): the separator is found, and E is undone by replacing `\x2d` with
// "-" (no lab name contains "\"). One unit carries every veth between a
// pair, so a pair needs no number either.
package names

import (
	"fmt"
	"regexp"
	"strings"
)

// Prefixes of everything netgen writes. FilePrefix sorts before the files
// distributions ship (70-..., 80-..., 99-...), so the lab's files win.
const (
	UnitPrefix = "netgen-"
	FilePrefix = "50-netgen-"
)

// Kinds of units and networkd files. A networkd-owned link's file uses the
// link's kind (bridge, tap, vlan, veth, uplink) as its KIND.
const (
	// KindNS is a namespace's unit, and the .network that marks its host
	// links unmanaged.
	KindNS = "ns"
	// KindLink is the unit of the veths between two namespaces.
	KindLink = "link"
	// KindHost is the lab's host unit (ports off the default VLAN).
	KindHost = "host"
	// KindBridges is the lab's wait for networkd's host bridges.
	KindBridges = "bridges"
	// KindUplink is an uplink's .network; NAME is its interface name or,
	// matched by MAC, the MAC with its colons.
	KindUplink = "uplink"
	// KindService is a service run inside a namespace; NAME is
	// E(namespace)--E(service), injective as a link unit's pair is.
	KindService = "svc"
)

// MaxLab is the longest lab name.
const MaxLab = 32

// LabPattern is what a lab name may be (schema checks it with a
// positioned message): no `_`, which is what makes the scheme injective.
var LabPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// MaxUnit is systemd's limit on a unit name (UNIT_NAME_MAX).
const MaxUnit = 255

// CheckLab says what is wrong with a lab name, or returns nil. The scheme
// above holds only for names that pass it.
func CheckLab(lab string) error {
	switch {
	case lab == "":
		return fmt.Errorf("a lab name cannot be empty")
	case len(lab) > MaxLab:
		return fmt.Errorf("lab name %q is %d bytes long; the limit is %d", lab, len(lab), MaxLab)
	case !LabPattern.MatchString(lab):
		return fmt.Errorf("lab name %q may only contain a-z 0-9 - and must start with a letter or digit", lab)
	}
	return nil
}

// Target is the lab's target, which groups its units.
func Target(lab string) string { return UnitPrefix + lab + ".target" }

// TargetWants is the directory of the target's enablement symlinks.
func TargetWants(lab string) string { return Target(lab) + ".wants" }

func base(lab, kind, name string) string {
	if name == "" {
		return lab + "_" + kind
	}
	return lab + "_" + kind + "-" + name
}

// Unit is the name of a service of the lab; name is "" for the kinds a lab
// has one of (host, bridges).
func Unit(lab, kind, name string) string { return UnitPrefix + base(lab, kind, name) + ".service" }

// NamespaceUnit is the unit that creates namespace ns.
func NamespaceUnit(lab, ns string) string { return Unit(lab, KindNS, ns) }

// LinkUnit is the unit of the veths between namespaces a and b, in either
// order.
func LinkUnit(lab, a, b string) string {
	if b < a {
		a, b = b, a
	}
	return Unit(lab, KindLink, Escape(a)+"--"+Escape(b))
}

// ServiceUnit is the unit of service svc of namespace ns.
func ServiceUnit(lab, ns, svc string) string {
	return Unit(lab, KindService, Escape(ns)+"--"+Escape(svc))
}

// NATTable is the nftables table (family inet) of a unit's masquerade
// rules: the unit's name, unescaped, without ".service", so each unit has
// its own in each namespace and it names the lab.
func NATTable(unit string) string { return strings.TrimSuffix(Unescape(unit), ".service") }

// NetnsDir is the directory whose NS/resolv.conf and NS/hosts `ip netns
// exec NS` bind-mounts over /etc/resolv.conf and /etc/hosts (ip-netns(8)).
const NetnsDir = "/etc/netns"

// NetworkFile is the name, without extension, of a networkd file of the lab.
func NetworkFile(lab, kind, name string) string { return FilePrefix + base(lab, kind, name) }

// UnmanagedFile is the name, without extension, of the .network that marks
// the host links of a unit unmanaged: the unit's own KIND and NAME.
func UnmanagedFile(unit string) string {
	s := strings.TrimPrefix(unit, UnitPrefix)
	return FilePrefix + strings.TrimSuffix(s, ".service")
}

// Escape is E(n) of the package comment.
func Escape(n string) string {
	if strings.Contains(n, "--") || strings.HasSuffix(n, "-") {
		return strings.ReplaceAll(n, "-", `\x2d`)
	}
	return n
}

// Unescape undoes Escape.
func Unescape(s string) string { return strings.ReplaceAll(s, `\x2d`, "-") }

// Name is a unit or file name taken apart.
type Name struct {
	Lab string
	// Kind is "" for the target.
	Kind string
	// Object is NAME ("" for host, bridges and the target); for a link
	// unit, the escaped pair.
	Object string
	// Ext is the extension with its dot: .service, .target, .netdev,
	// .network, .link.
	Ext string
}

// Parse takes apart a unit or networkd file name of the scheme; ok is
// false for any other name.
func Parse(file string) (n Name, ok bool) {
	rest, isFile := strings.CutPrefix(file, FilePrefix)
	if !isFile {
		if rest, ok = strings.CutPrefix(file, UnitPrefix); !ok {
			return Name{}, false
		}
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return Name{}, false
	}
	rest, n.Ext = rest[:dot], rest[dot:]
	switch {
	case !isFile && n.Ext == ".target":
		n.Lab = rest
		return n, CheckLab(n.Lab) == nil
	case isFile && (n.Ext == ".netdev" || n.Ext == ".network" || n.Ext == ".link"):
	case !isFile && n.Ext == ".service":
	default:
		return Name{}, false
	}
	lab, kindName, found := strings.Cut(rest, "_")
	if !found || CheckLab(lab) != nil {
		return Name{}, false
	}
	n.Lab = lab
	n.Kind, n.Object, _ = strings.Cut(kindName, "-")
	if n.Kind == "" {
		return Name{}, false
	}
	return n, true
}

// LabOf returns the lab a unit, networkd file or target .wants directory
// of the scheme belongs to.
func LabOf(file string) (string, bool) {
	if t, ok := strings.CutSuffix(file, ".wants"); ok {
		n, ok := Parse(t)
		return n.Lab, ok && n.Kind == ""
	}
	n, ok := Parse(file)
	return n.Lab, ok
}

// Belongs reports whether file (a base name) is one of lab's units or
// networkd files, or its target's .wants directory.
func Belongs(file, lab string) bool {
	l, ok := LabOf(file)
	return ok && l == lab
}

// LinkPair returns the two namespaces of a link unit's Object.
func LinkPair(object string) (a, b string, ok bool) {
	a, b, ok = strings.Cut(object, "--")
	if !ok || a == "" || b == "" {
		return "", "", false
	}
	return Unescape(a), Unescape(b), true
}

// LegacyBelongs reports whether file has the form of lab's names before the
// "_" scheme (netgen-LAB-KIND-NAME, 50-netgen-LAB-...). That form is
// ambiguous (lab "a" and lab "a-b" share a prefix), so a caller takes it
// only for a path the lab's own record lists, or confirms it by the file's
// first line.
func LegacyBelongs(file, lab string) bool {
	return file == Target(lab) || file == TargetWants(lab) ||
		strings.HasPrefix(file, UnitPrefix+lab+"-") || strings.HasPrefix(file, FilePrefix+lab+"-")
}

// LegacyNamespace returns the namespace of a pre-"_" namespace unit name of
// lab (netgen-LAB-ns-NS.service).
func LegacyNamespace(file, lab string) (string, bool) {
	ns, ok := strings.CutPrefix(file, UnitPrefix+lab+"-ns-")
	if !ok || !strings.HasSuffix(ns, ".service") {
		return "", false
	}
	return strings.TrimSuffix(ns, ".service"), true
}

// Header is the first line of every generated file. It names the lab, not
// the lab's file: moving the file must not rewrite (and restart) anything.
func Header(lab string) string {
	return fmt.Sprintf("# Generated by netgen from lab %q. Do not edit: changes will be lost.\n", lab)
}

// headerStart is what Header(lab) starts with in every netgen version that
// wrote files (the sentence after it was added later).
func headerStart(lab string) string { return fmt.Sprintf("# Generated by netgen from lab %q.", lab) }

// HeaderLen is how many bytes of a file HasHeader needs.
const HeaderLen = 128

// HasHeader reports whether data (a file's start) says lab generated it.
// The lab is quoted, so lab "a" never matches a file of lab "a-b".
func HasHeader(data []byte, lab string) bool {
	return strings.HasPrefix(string(data), headerStart(lab))
}
