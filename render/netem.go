package render

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/schema"
)

// Qdiscs: link impairment (netem) and transparent wires (ingress qdisc,
// matchall filter, mirred redirect). Whoever owns a link owns its qdiscs:
// networkd's [NetworkEmulator] where networkd owns the link and can say
// the netem (generator.NetworkdNetem), the owning unit's `tc` otherwise.

// NetemArgs are the `tc qdisc replace dev X root ...` arguments of an
// impairment: "netem limit N delay D J loss P% ...".
func NetemArgs(v *schema.NetemValues) string {
	s := "netem"
	if v.Limit != 0 {
		s += fmt.Sprintf(" limit %d", v.Limit)
	}
	if v.Delay != 0 || v.Jitter != 0 {
		s += " delay " + usec(v.Delay)
		if v.Jitter != 0 {
			s += " " + usec(v.Jitter)
		}
	}
	pct := func(name string, p float64) {
		if p != 0 {
			s += " " + name + " " + percent(p)
		}
	}
	pct("loss", v.Loss)
	pct("duplicate", v.Duplicate)
	pct("corrupt", v.Corrupt)
	pct("reorder", v.Reorder)
	if v.Rate != 0 {
		s += " rate " + bitrate(v.Rate)
	}
	return s
}

// usec writes a duration for tc and networkd (a jitter without a delay
// writes the delay as 0ms).
func usec(us int64) string {
	if us == 0 {
		return "0ms"
	}
	return schema.FormatMicros(us)
}

// permyriad writes a percentage in basis points, 1% = 100‱
// (generator.NetworkdNetem hands networkd only whole ones).
func permyriad(p float64) string { return fmt.Sprintf("%d‱", int64(math.Round(p*100))) }

// percent writes a percentage for tc without its sign: iproute2 reads
// a bare number as percent too, and systemd would take "%" in a unit for
// a specifier.
func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// bitrate writes a (non-zero) rate in tc's units.
func bitrate(b int64) string { return schema.FormatRate(b) }

// netemSection is the [NetworkEmulator] of a networkd-owned link.
func netemSection(l *generator.Link) *section {
	v := l.Netem
	if v == nil {
		return nil
	}
	s := newSection("NetworkEmulator").add("Parent", "root")
	if v.Delay != 0 {
		s.add("DelaySec", usec(v.Delay))
	}
	if v.Jitter != 0 {
		s.add("DelayJitterSec", usec(v.Jitter))
	}
	s.add("PacketLimit", nonzero(v.Limit))
	// In basis points (‱, which networkd's parse_permyriad reads like %):
	// no "%" reaches a file (see write).
	if v.Loss != 0 {
		s.add("LossRate", permyriad(v.Loss))
	}
	if v.Duplicate != 0 {
		s.add("DuplicateRate", permyriad(v.Duplicate))
	}
	return s
}

// setNetem puts a netem on a link the unit has just created (`tc -batch`).
type setNetem struct {
	dev  string
	args string
}

func (s setNetem) cmd() string { return "qdisc replace dev " + s.dev + " root " + s.args }

// netemDelim ends the here-document of a unit's netem batch: a live build
// that changes only impairments tells them apart (StableUnit) and runs
// `tc qdisc replace` instead of restarting the unit.
const netemDelim = "NETEM"

// netemBatch is a `tc -batch` of netem qdiscs in one namespace.
type netemBatch struct {
	ns    string
	steps []step
}

func (b netemBatch) sh() []string {
	if len(b.steps) == 0 {
		return nil
	}
	head := "tc"
	if b.ns != "" {
		head += " -n " + b.ns
	}
	out := []string{head + " -batch - <<'" + netemDelim + "'"}
	for _, s := range b.steps {
		out = append(out, s.cmd())
	}
	return append(out, netemDelim)
}

// netemStmts set the netem of every link the unit creates, by namespace.
func netemStmts(u *generator.Unit) []stmt {
	var out []stmt
	for _, ns := range namespaces(u) {
		var steps []step
		for _, l := range u.Links {
			if l.NS == ns && l.Netem != nil {
				steps = append(steps, setNetem{l.Name, NetemArgs(l.Netem)})
			}
		}
		out = append(out, netemBatch{ns, steps})
	}
	return out
}

// StableUnit is a unit file without its netem batches: two builds whose
// units differ only there change qdiscs, not links, and apply replaces the
// qdiscs without restarting the unit.
func StableUnit(data []byte) []byte {
	var out bytes.Buffer
	skip := false
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		l := strings.TrimRight(string(line), "\n")
		switch {
		case skip:
			if l == "StandardInputText="+netemDelim {
				skip = false
			}
			continue
		case strings.HasPrefix(l, "StandardInputText=tc ") && strings.HasSuffix(l, "<<'"+netemDelim+"'"):
			skip = true
			continue
		}
		out.Write(line)
	}
	return out.Bytes()
}

// addIngress adds the ingress qdisc a wire's filter hangs on.
type addIngress struct{ dev string }

func (s addIngress) cmd() string { return "qdisc add dev " + s.dev + " ingress" }

// delIngress deletes a wire end's ingress qdisc, and its filters with it.
type delIngress struct{ dev string }

func (s delIngress) cmd() string { return "qdisc del dev " + s.dev + " ingress" }

// redirect sends every frame arriving on dev out of to, unchanged.
type redirect struct{ dev, to string }

func (s redirect) cmd() string {
	return "filter add dev " + s.dev + " parent ffff: matchall action mirred egress redirect dev " + s.to
}

// ifLinks runs its body only when every one of the links exists in ns.
type ifLinks struct {
	ns    string
	links []string
	body  []stmt
}

func (s ifLinks) sh() []string {
	tests := []string{}
	for _, l := range s.links {
		if s.ns == "" {
			tests = append(tests, "[ -e /sys/class/net/"+l+" ]")
		} else {
			tests = append(tests, "ip -n "+s.ns+" link show dev "+l+" >/dev/null 2>&1")
		}
	}
	// The units of both ends may run this at once: one at a time, under
	// a lock (flock(1), util-linux) on the namespace's file, or for the
	// host on /sys/class/net.
	lock := "/sys/class/net"
	if s.ns != "" {
		lock = netnsPath(s.ns)
	}
	out := []string{"if " + strings.Join(tests, " && ") + "; then", "exec 9<" + lock, "flock 9"}
	for _, b := range s.body {
		out = append(out, b.sh()...)
	}
	return append(out, "exec 9<&-", "fi")
}

// wireStmts set up the unit's wires. A wire whose ends the unit both
// creates is set up on the fresh links. Otherwise the other end may be
// missing (its unit not started yet: that unit sets the wire up when it
// comes) or carry the redirect to this end's previous ifindex: the ingress
// qdiscs of both ends are replaced once both exist.
func wireStmts(u *generator.Unit) []stmt {
	var out []stmt
	for _, w := range u.Wires {
		up := batch{tool: "tc", ns: w.NS(), steps: []step{
			addIngress{w.A.Name}, redirect{w.A.Name, w.B.Name},
			addIngress{w.B.Name}, redirect{w.B.Name, w.A.Name},
		}}
		if creates(u, w.A) && creates(u, w.B) {
			out = append(out, up)
			continue
		}
		del := batch{tool: "tc", ns: w.NS(), force: true, steps: []step{delIngress{w.A.Name}, delIngress{w.B.Name}}}
		out = append(out, ifLinks{ns: w.NS(), links: []string{w.A.Name, w.B.Name}, body: []stmt{del, up}})
	}
	return out
}

// creates reports whether the unit creates the link afresh at each start
// (an uplink exists before it and keeps its qdiscs).
func creates(u *generator.Unit, l *generator.Link) bool {
	return l.Owner == u && l.Kind != schema.KindUplink
}

// wireDownStmts take the wire off an uplink the unit owns: the uplink
// outlives the unit, and a redirect to a deleted link drops every frame.
func wireDownStmts(u *generator.Unit) []stmt {
	var out []stmt
	for _, w := range u.Wires {
		var steps []step
		for _, l := range []*generator.Link{w.A, w.B} {
			if l.Owner == u && l.Kind == schema.KindUplink {
				steps = append(steps, delIngress{l.Name})
			}
		}
		if len(steps) > 0 {
			out = append(out, ifAnyLink{names: linkNames(steps), body: []stmt{batch{tool: "tc", force: true, steps: steps}}})
		}
	}
	return out
}

func linkNames(steps []step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.(delIngress).dev)
	}
	return out
}

// hostQdiscs reports whether the host unit owns links for their qdiscs.
func hostQdiscs(u *generator.Unit) bool {
	if len(u.Wires) > 0 {
		return true
	}
	for _, l := range u.Links {
		if l.Netem != nil {
			return true
		}
	}
	return false
}
