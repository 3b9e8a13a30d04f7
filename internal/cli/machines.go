package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/internal/compile"
	"github.com/netgen-lab/netgen/internal/graph"
	"github.com/netgen-lab/netgen/internal/reach"
	"github.com/netgen-lab/netgen/schema"
)

// machineFlag adds --machine: which machine's part of a lab with machines
// a command works on.
func machineFlag(fs *pflag.FlagSet) *string {
	return fs.String("machine", "", "with a lab for several machines: this machine's name in it (default: this system's host name)")
}

// hostName is this system's host name without its domain; a variable for
// the tests.
var hostName = func() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(h, ".")
	return name
}

// resolveMachine says which machine's part of the lab to work on: the one
// --machine names, or for a lab with machines, the machine named like
// this system. "" for a lab without machines (compile refuses --machine
// there).
func resolveMachine(name string, src []byte, flag string, st IO) (string, int) {
	if flag != "" {
		return flag, ExitOK
	}
	lab, _ := schema.Decode(name, src)
	names := schema.Machines(lab)
	if len(names) == 0 {
		return "", ExitOK
	}
	h := hostName()
	if slices.Contains(names, h) {
		return h, ExitOK
	}
	fmt.Fprintf(st.Err, "netgen: %s is a lab for several machines (%s), and this system's host name %q is none of them\n  = hint: say which machine this is: --machine NAME\n",
		name, strings.Join(names, ", "), h)
	return "", ExitUsage
}

// compileMachine compiles machine's part of a lab, printing its
// diagnostics as compileSrc does.
func compileMachine(name string, src []byte, machine, tail string, st IO) (*compile.Result, int) {
	compiles++
	res, err := compile.CompileFor(name, src, machine)
	return reportCompile(name, src, res, err, tail, st)
}

// compileLabFor reads a lab and compiles the part of it for the machine
// --machine names (or this system's).
func compileLabFor(path, flag, tail string, st IO) (*compile.Result, int) {
	name, src, err := readLab(path, st)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return nil, ExitLab
	}
	m, code := resolveMachine(name, src, flag, st)
	if code != ExitOK {
		return nil, code
	}
	return compileMachine(name, src, m, tail, st)
}

// stampSource is what a build's stamp digests: the source, and the machine
// whose part of it was built, so that another machine's part is never
// taken for the one installed.
func stampSource(src []byte, machine string) []byte {
	if machine == "" {
		return src
	}
	return append(append([]byte(nil), src...), "\x00machine="+machine...)
}

// machineExpectations are the pings `netgen test` sends on machine m of a
// lab with machines: those the whole lab implies (schema.Flatten) from m's
// namespaces and its root namespace, to addresses on any machine.
func machineExpectations(lab *schema.Lab, m string) []reach.Expectation {
	var out []reach.Expectation
	nsOn := map[string]string{}
	for _, ns := range lab.Namespaces {
		nsOn[ns.Name.Value] = ns.Machine.Value
	}
	for _, e := range reach.Derive(generator.Generate(schema.Flatten(lab))) {
		switch {
		case e.From == m:
			e.From = reach.Host
		case nsOn[e.From] != m:
			continue
		}
		for i := range e.Neighbours {
			if e.Neighbours[i].From == m {
				e.Neighbours[i].From = reach.Host
			}
		}
		out = append(out, e)
	}
	return out
}

// graphPlan is what `netgen graph` draws: the lab's plan, a machine's
// part with --machine, and without it, for a lab with machines, the whole
// lab (schema.Flatten: each machine a box of its root namespace's
// interfaces and its namespaces, a stretched bridge one bridge per machine
// joined by cables over VXLAN), which is what one wants to see from a
// workstation.
func graphPlan(path, machine string, st IO) (*generator.Plan, graph.Machines, int) {
	name, src, err := readLab(path, st)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return nil, graph.Machines{}, ExitLab
	}
	res, code := compileMachine(name, src, machine, "", st)
	if code != ExitOK {
		return nil, graph.Machines{}, code
	}
	if res.Plan == nil {
		m := graph.Machines{Of: map[string]string{}}
		for _, ns := range res.Lab.Namespaces {
			m.Of[ns.Name.Value] = ns.Machine.Value
		}
		for _, name := range schema.Machines(res.Lab) {
			m.Of[name] = name
		}
		return generator.Generate(schema.Flatten(res.Lab)), m, ExitOK
	}
	return res.Plan, graph.Machines{This: machine}, ExitOK
}
