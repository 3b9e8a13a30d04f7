package cli

import (
	"fmt"

	"github.com/netgen-lab/netgen/alloc"
)

// expand prints the lab with every automatic address written out: valid
// input that builds to the same files.
func expand(args []string, st IO) int {
	fs := newFlags("expand LAB", "expand LAB", st)
	if code, ok := parse(fs, args, st); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(st.Err, "netgen: expand takes exactly one LAB")
		fs.Usage()
		return ExitUsage
	}
	name, src, err := readLab(fs.Arg(0), st)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitLab
	}
	res, code := compileSrc(name, src, "", st)
	if code != ExitOK {
		return code
	}
	out, err := alloc.Expand(src, res.Lab, res.Alloc)
	if err != nil {
		fmt.Fprintf(st.Err, "netgen: %s: %v\n", name, err)
		return ExitLab
	}
	if _, err := st.Out.Write(out); err != nil {
		fmt.Fprintf(st.Err, "netgen: %v\n", err)
		return ExitWrite
	}
	return ExitOK
}
