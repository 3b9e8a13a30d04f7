package compile

import (
	"fmt"
	"strings"

	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/schema"
)

// machinePart is machine's part of a lab with machines, or nil: with an
// error in diags when the lab has no such machine, without one for machine
// "" (the whole lab is valid, and no machine's part was asked for).
func machinePart(lab *schema.Lab, machine string, diags *diag.List) *schema.Lab {
	names := schema.Machines(lab)
	switch {
	case len(names) == 0:
		diags.Errorf(diag.Pos{}, "--machine %s: the lab has no `machines`", machine).Hint = "leave --machine out for a lab of one machine"
		return nil
	case machine == "":
		return nil
	}
	for _, n := range names {
		if n == machine {
			return schema.Project(lab, machine)
		}
	}
	dg := diags.Errorf(diag.Pos{}, "machine %q is not one of the lab's machines (%s)", machine, strings.Join(names, ", "))
	if dg.Hint = diag.DidYouMean(machine, names); dg.Hint == "" {
		dg.Hint = fmt.Sprintf("say --machine NAME with one of: %s", strings.Join(names, ", "))
	}
	return nil
}
