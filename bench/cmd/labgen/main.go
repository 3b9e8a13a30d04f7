// Command labgen prints a synthetic netgen lab (or the same topology as
// netplan YAML) of the size given by its flags, for benchmarks and for
// trying netgen on big labs by hand:
//
//	go run ./bench/cmd/labgen -namespaces 1000 -neighbours >big.yml
//	go run ./bench/cmd/labgen -uplinks 10 -vlans 1000 -vlan-bridges 200 -format netplan
//	go run ./bench/cmd/labgen -namespaces 100 -format ip-batch >up.sh
//
// The ip-batch and ip-commands formats are sh scripts that make the same
// kernel objects as netgen's build of the namespace part, with iproute2
// alone; ip-teardown removes them again.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/netgen-lab/netgen/bench/labgen"
)

func main() {
	var s labgen.Spec
	flag.StringVar(&s.Name, "name", "bench", "lab name")
	flag.IntVar(&s.Namespaces, "namespaces", 0, "namespaces, each with a veth to a host bridge")
	flag.IntVar(&s.PortsPerBridge, "ports-per-bridge", 1000, "namespaces per host bridge (at most 1000)")
	flag.BoolVar(&s.Neighbours, "neighbours", false, "a veth from every namespace to the next")
	flag.BoolVar(&s.NoHostVeth, "no-host-veth", false, "no host veth (and no host address) on the namespace bridges")
	flag.IntVar(&s.Uplinks, "uplinks", 0, "uplinks (existing NICs eth0, eth1, ...) carrying the VLANs")
	flag.IntVar(&s.VLANs, "vlans", 0, "VLAN sub-interfaces, round robin over the uplinks")
	flag.IntVar(&s.VLANBridges, "vlan-bridges", 0, "host bridges taking the VLANs as ports, one address each")
	flag.BoolVar(&s.Services, "services", false, "a service (sleep infinity) in every namespace")
	flag.BoolVar(&s.Netem, "netem", false, "netem (1 ms delay) on every namespace's eth0")
	flag.BoolVar(&s.Wires, "wires", false, "every two namespaces joined by a wire in namespace \"wire\"")
	flag.IntVar(&s.Machines, "machines", 0, "spread the lab over this many machines (a stretched bridge)")
	format := flag.String("format", "netgen", "netgen, netplan, ip-batch, ip-commands or ip-teardown")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "labgen: no arguments expected; see -help")
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	var err error
	switch *format {
	case "netgen":
		err = s.Write(w)
	case "netplan":
		err = s.Netplan(w)
	case "ip-batch", "ip-commands":
		err = s.IPScript(w, *format == "ip-batch")
	case "ip-teardown":
		err = s.IPTeardown(w)
	default:
		err = fmt.Errorf("labgen: -format must be netgen, netplan, ip-batch, ip-commands or ip-teardown")
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
