// Package compile runs the whole pipeline on one lab source: decode,
// validate, generate, render. It is the one place the stages are chained, so
// the CLI, the golden tests, the fuzzers and the benchmarks all compile a
// lab the same way.
package compile

import (
	"github.com/netgen-lab/netgen/alloc"
	"github.com/netgen-lab/netgen/diag"
	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/render"
	"github.com/netgen-lab/netgen/schema"
)

// Result is what compiling a lab gives: its diagnostics always, and the plan
// and files only when the lab has no error.
type Result struct {
	Lab   *schema.Lab
	Diags *diag.List
	// Alloc is what automatic addressing chose (set once the lab is valid).
	Alloc *alloc.Result
	Plan  *generator.Plan
	Files []render.File
	// Machine is the machine whose part of the lab was compiled ("" for
	// a lab without machines).
	Machine string
}

// Compile compiles a lab read from file (the name used in diagnostics).
// err is set only for a failure of netgen itself, never for a bad lab.
func Compile(file string, src []byte) (*Result, error) { return CompileFor(file, src, "") }

// CompileFor compiles machine's part of a lab with machines (machines.go);
// for a lab without machines, machine must be "".
func CompileFor(file string, src []byte, machine string) (*Result, error) {
	lab, diags := schema.Decode(file, src)
	res := &Result{Lab: lab, Diags: diags, Machine: machine}
	// Validation of a half-decoded lab still finds independent problems
	// (names, references), so the user sees them all at once.
	schema.Validate(lab, diags)
	if diags.HasErrors() {
		return res, nil
	}
	// Automatic addresses are written on the lab before it is generated,
	// and before a machine's part is cut out of it, so that every machine
	// works out the same addresses: the generator never knows an address
	// was not written out.
	res.Alloc = alloc.Allocate(lab, diags)
	if diags.HasErrors() {
		return res, nil
	}
	part := lab
	if len(lab.Machines) > 0 || machine != "" {
		if part = machinePart(lab, machine, diags); part == nil {
			return res, nil
		}
	}
	res.Plan = generator.Generate(part)
	files, err := render.Render(res.Plan)
	if err != nil {
		return res, err
	}
	res.Files = files
	return res, nil
}
