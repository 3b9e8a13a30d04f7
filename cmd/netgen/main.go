// Command netgen compiles a network lab file into systemd-networkd files and
// systemd units. All the work is in internal/cli; main only wires the
// process's streams and exit status. Called as netgen-generator (the
// symlink in systemd's generator directory), it is the systemd generator
// of internal/genmode.
package main

import (
	"os"

	"github.com/netgen-lab/netgen/internal/cli"
	"github.com/netgen-lab/netgen/internal/genmode"
)

func main() {
	if genmode.IsGenerator(os.Args[0]) {
		os.Exit(genmode.Main(os.Args[1:], os.Stderr))
	}
	os.Exit(cli.Main(os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
