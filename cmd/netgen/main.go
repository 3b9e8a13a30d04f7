// Command netgen compiles a network lab file into systemd-networkd files and
// systemd units. All the work is in internal/cli; main only wires the
// process's streams and exit status.
package main

import (
	"os"

	"github.com/netgen-lab/netgen/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
