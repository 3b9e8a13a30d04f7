package cli

import (
	"fmt"

	"github.com/netgen-lab/netgen/internal/graph"
)

func graphCmd(args []string, st IO) int {
	fs := newFlags("graph LAB", "graph LAB [--format dot|mermaid]", st)
	format := fs.String("format", "dot", "dot (Graphviz) or mermaid")
	machine := machineFlag(fs)
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(st.Err, "netgen: graph takes exactly one LAB")
		fs.Usage()
		return ExitUsage
	}
	if *format != "dot" && *format != "mermaid" {
		fmt.Fprintf(st.Err, "netgen: --format %s: want dot or mermaid\n", *format)
		return ExitUsage
	}
	plan, machines, code := graphPlan(fs.Arg(0), *machine, st)
	if code != ExitOK {
		return code
	}
	out, err := graph.Render(plan, *format, machines)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitUsage
	}
	st.Out.Write(out)
	return ExitOK
}
