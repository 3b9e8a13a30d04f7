package cli

import (
	"errors"
	"fmt"

	"github.com/netgen-lab/netgen/internal/apply"
	"github.com/netgen-lab/netgen/internal/install"
)

// usageError is a wrong command line found after flag parsing.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitCode is the exit status of a failure, decided by what failed rather
// than by where: a wrong command line (or a directory that climbs out of
// --root) is usage; the running system is ExitApply; anything of the files
// (a write, a file in the way, a path out of the root, a record that
// cannot be read) is ExitWrite.
func exitCode(err error) int {
	var usage *usageError
	var root *install.RootError
	var conflict *install.ConflictError
	var sys *apply.Error
	switch {
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &root) && root.Arg:
		return ExitUsage
	case errors.As(err, &sys):
		return ExitApply
	case errors.As(err, &conflict), errors.As(err, &root):
		return ExitWrite
	}
	// The rest are the file system's (permission, read-only, full disk).
	return ExitWrite
}

// fail prints err and returns its exit status.
func fail(st IO, err error) int {
	fmt.Fprintf(st.Err, "netgen: %v\n", err)
	return exitCode(err)
}
