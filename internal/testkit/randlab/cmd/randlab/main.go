// Command randlab prints random labs of the randlab generator, to read,
// shrink by hand or feed to netgen: the lab a failing e2e run names is
// `randlab -seed S -index I` (add -vlans for the QEMU tier's population,
// with the -prefix and -block that run used).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/netgen-lab/netgen/internal/testkit/randlab"
)

func main() {
	seed := flag.Uint64("seed", 1, "seed (NETGEN_RANDSEED)")
	index := flag.Int("index", 0, "first lab's index")
	n := flag.Int("n", 1, "how many labs, from -index on")
	vlans := flag.Bool("vlans", false, "the VLAN population (QEMU tier)")
	prefix := flag.String("prefix", "", "name prefix")
	block := flag.Int("block", 0, "address block")
	noHostDefaults := flag.Bool("no-host-defaults", false, "no default route in the host namespace")
	wild := flag.String("wild", "", "comma-separated wild constructs to allow (see randlab.Wild)")
	flag.Parse()
	opt := randlab.Options{Prefix: *prefix, Block: *block, NoHostDefaults: *noHostDefaults, Wild: map[string]bool{}}
	if *vlans {
		opt.Population = randlab.VLANs
	}
	for _, w := range strings.Split(*wild, ",") {
		if w == "" {
			continue
		}
		if _, ok := randlab.Wild[w]; !ok {
			fmt.Fprintf(os.Stderr, "randlab: unknown wild construct %q\n", w)
			os.Exit(2)
		}
		opt.Wild[w] = true
	}
	for i := *index; i < *index+*n; i++ {
		lab := randlab.Generate(*seed, i, opt)
		fmt.Printf("# %s\n%s", lab.File, lab.YAML)
		if i+1 < *index+*n {
			fmt.Println("---")
		}
	}
}
