package labgen

import (
	"fmt"
	"io"
	"strings"
)

// IPScript writes a POSIX sh script that makes, with iproute2 alone, the
// same kernel objects netgen makes for the namespace part of the spec:
// namespaces, host bridges (STP off, no link-local address), the host's
// veth with its address, every namespace's veth with its host end on the
// bridge (no link-local address) and its address inside, lo up, and the
// chain veths. It is the baseline of the bring-up figure.
//
// batch selects how: true is one `ip -batch` for everything in the host
// (namespaces included) plus one `ip -n NS -batch` per namespace, the
// fewest processes iproute2 allows; false is one `ip` process per command,
// as a hand-written script usually does it.
func (s Spec) IPScript(w io.Writer, batch bool) error {
	if err := s.Check(); err != nil {
		return err
	}
	s = s.Defaults()
	if s.VLANs > 0 {
		return fmt.Errorf("labgen: IPScript covers namespaces, not VLANs")
	}
	if s.Services || s.Netem || s.Wires || s.Machines > 0 {
		return fmt.Errorf("labgen: IPScript covers the plain namespace shape: no services, netem, wires or machines")
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "#!/bin/sh\n# Written by bench/labgen: %s, one %s.\nset -e\n", s.describe(),
		map[bool]string{true: "ip -batch for the host and one ip -n NS -batch per namespace", false: "ip process per command"}[batch])
	var host []string
	for i := 0; i < s.Namespaces; i++ {
		host = append(host, "netns add "+NSName(i))
	}
	for i := 0; i < s.NSBridges(); i++ {
		br := NSBridge(i)
		host = append(host,
			fmt.Sprintf("link add name %s type bridge stp_state 0", br),
			fmt.Sprintf("link set dev %s addrgenmode none", br),
			fmt.Sprintf("link set dev %s up", br))
		if !s.NoHostVeth {
			host = append(host,
				fmt.Sprintf("link add name %s type veth peer name %s", HostPort(i), HostVeth(i)),
				fmt.Sprintf("link set dev %s master %s", HostPort(i), br),
				fmt.Sprintf("link set dev %s addrgenmode none", HostPort(i)),
				fmt.Sprintf("link set dev %s up", HostPort(i)),
				fmt.Sprintf("link set dev %s up", HostVeth(i)),
				fmt.Sprintf("address add %s dev %s broadcast +", s.HostAddr(i), HostVeth(i)))
		}
	}
	for i := 0; i < s.Namespaces; i++ {
		host = append(host,
			fmt.Sprintf("link add name %s type veth peer name eth0 netns %s", NSPort(i), NSName(i)),
			fmt.Sprintf("link set dev %s master %s", NSPort(i), NSBridge(i/s.PortsPerBridge)),
			fmt.Sprintf("link set dev %s addrgenmode none", NSPort(i)),
			fmt.Sprintf("link set dev %s up", NSPort(i)))
	}
	emit(b, "", host, batch)
	for i := 0; i < s.Namespaces; i++ {
		cmds := []string{"link set dev lo up"}
		if s.Neighbours && i+1 < s.Namespaces {
			// The chain veth is created by the first namespace's batch,
			// the peer straight into the next namespace, which configures
			// its end in its own batch.
			cmds = append(cmds, fmt.Sprintf("link add name east type veth peer name west netns %s", NSName(i+1)))
		}
		cmds = append(cmds, "link set dev eth0 up")
		if s.Neighbours && i+1 < s.Namespaces {
			cmds = append(cmds, "link set dev east up")
		}
		if s.Neighbours && i > 0 {
			cmds = append(cmds, "link set dev west up")
		}
		cmds = append(cmds, fmt.Sprintf("address add %s dev eth0 broadcast +", s.NSAddr(i)))
		if s.Neighbours && i+1 < s.Namespaces {
			cmds = append(cmds, fmt.Sprintf("address add %s dev east", neighbourAddr(i, 0)))
		}
		if s.Neighbours && i > 0 {
			cmds = append(cmds, fmt.Sprintf("address add %s dev west", neighbourAddr(i-1, 1)))
		}
		emit(b, NSName(i), cmds, batch)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// IPTeardown writes a sh script that removes what IPScript made (and what
// netgen made for the same spec): the namespaces (their veths die with
// them), the host veths and the bridges. It waits until the kernel has
// really destroyed the namespaces' host ends, which it does asynchronously,
// so that the next bring-up starts from the same empty state.
func (s Spec) IPTeardown(w io.Writer) error {
	s = s.Defaults()
	b := &strings.Builder{}
	b.WriteString("#!/bin/sh\n# Written by bench/labgen: remove the namespace part of the lab.\n")
	b.WriteString("ip -all netns delete >/dev/null 2>&1 || :\n")
	var cmds []string
	for i := 0; i < s.NSBridges(); i++ {
		if !s.NoHostVeth {
			cmds = append(cmds, "link delete dev "+HostPort(i))
		}
		cmds = append(cmds, "link delete dev "+NSBridge(i))
	}
	b.WriteString("ip -force -batch - <<'EOF' 2>/dev/null || :\n" + strings.Join(cmds, "\n") + "\nEOF\n")
	fmt.Fprintf(b, "i=0; while [ \"$(ip -o link show type veth | wc -l)\" != 0 ]; do\n"+
		"  i=$((i+1)); [ $i -lt 3000 ] || { echo 'teardown: veths still there after 30 s' >&2; exit 1; }; sleep 0.01\ndone\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// emit writes commands for the host (ns "") or a namespace, as one batch or
// one process each.
func emit(b *strings.Builder, ns string, cmds []string, batch bool) {
	ip := "ip"
	if ns != "" {
		ip += " -n " + ns
	}
	if batch {
		fmt.Fprintf(b, "%s -batch - <<'EOF'\n%s\nEOF\n", ip, strings.Join(cmds, "\n"))
		return
	}
	for _, c := range cmds {
		fmt.Fprintf(b, "%s %s\n", ip, c)
	}
}
