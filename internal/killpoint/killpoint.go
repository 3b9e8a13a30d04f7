// Package killpoint lets a test interrupt netgen between two steps of a
// live build, the way a kill or a power loss would, to prove that the next
// run finishes what the interrupted one started.
//
// With NETGEN_KILL_AT=N in the environment, netgen sends itself SIGKILL at
// its N-th step (no deferred function, no cleanup runs, as in a real
// kill); with NETGEN_KILL_AT=trace it prints every step it passes to
// standard error ("netgen: step N: WHAT"), which is how a test learns how
// many steps there are. Without the variable a step costs an atomic add.
package killpoint

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// Env is the environment variable that arms the kill.
const Env = "NETGEN_KILL_AT"

var (
	at    = parse(os.Getenv(Env))
	trace = os.Getenv(Env) == "trace"
	n     atomic.Int64
)

func parse(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0
	}
	return v
}

// Step marks the end of one step of a live build.
func Step(what string) {
	if at == 0 && !trace {
		return
	}
	i := n.Add(1)
	if trace {
		fmt.Fprintf(os.Stderr, "netgen: step %d: %s\n", i, what)
	}
	if i == at {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
