// Package oracle runs the real systemd-networkd of the machine (Debian 12:
// systemd 252, /lib/systemd/systemd-networkd) on a directory of .netdev and
// .network files and reports what it did: the links and addresses the kernel
// ends up with, which .network file networkd applied to each link, and every
// message networkd logged, with its exact priority. Tests of netgen's
// generator use it to check generated files against the implementation that
// will read them, not against our reading of the manual.
//
// # Usage
//
//	if err := oracle.Available(); err != nil {
//		t.Skip(err) // not root, or no networkd
//	}
//	res, err := oracle.Run(ctx, dir, oracle.Options{
//		Prepare: []string{"ip link add enp3s0 type veth peer name peer0"},
//	})
//	// res.Link("br0").Kind == "bridge", res.States["enp3s0"].File,
//	// res.Warnings() (warnings about the files), res.AllWarnings(), ...
//
// Run copies the directory (keeping file modes: networkd reads its
// configuration after dropping root, so a file it cannot read shows up as
// missing, as it would on a host) and waits, by default, until every
// [NetDev] Name= of the .netdev files exists and every link is "settled"
// (networkd admin state configured, unmanaged, failed or linger; and
// stays so for Options.SettleFor), then captures `ip -d -j link show`, `ip -j addr show` and
// /run/systemd/netif/links/*, stops networkd and tears everything down. A
// netdev networkd reports it could not create ends the wait early (Status
// "failed"). Links networkd keeps configuring (DHCP without a server) need
// an explicit Options.WaitFor ("peer0:configuring").
//
// # Isolation
//
// Nothing touches the host's network or files. The harness is a POSIX shell
// script (script.go) run under
//
//	unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private
//
// so networkd and the Prepare/Inspect commands run in a new network namespace
// (only lo to start with), a private copy of the mount table whose changes
// never propagate back, and a new PID namespace whose init is the script:
// when the script ends, or unshare is killed (its parent, this process, sets
// PR_SET_PDEATHSIG on it), the kernel kills everything in it and the
// namespaces vanish with the last process. Inside:
//
//   - /etc/systemd gets an empty tmpfs and the files under test are
//     bind-mounted on /etc/systemd/network, next to an empty networkd.conf:
//     the host's own /etc/systemd/network, networkd.conf and
//     networkd.conf.d are not seen. The distribution's files
//     (/usr/lib/systemd/network: Debian's 80-container-ve.network matches
//     veths named ve-*, 80-container-vb.network veths named vb-*, ...) are
//     hidden too unless Options.VendorFiles is set.
//
//   - /run gets a fresh tmpfs. The host's /run holds the D-Bus system socket
//     (networkd would connect and try to own org.freedesktop.network1 on the
//     host's bus), the host networkd's state (/run/systemd/netif), runtime
//     networkd files (/run/systemd/network) and /run/udev. networkd creates
//     /run/systemd/netif (owned by systemd-network) itself, as root, before
//     it drops privileges.
//
//   - /sys gets a fresh sysfs, mounted read-only. Fresh, because sysfs shows
//     the network devices of the namespace that mounted it: the host's
//     /sys/class/net would list the host's links. Read-only, because that is
//     how networkd 252 decides that it runs in a container without udev:
//     with a writable /sys every link stays in state "pending" ("link
//     pending udev initialization...") forever, since no udev will ever
//     announce it. A read-only /sys makes networkd skip the udev wait and
//     use the link as soon as the kernel reports it.
//
//   - /dev/net gets a tmpfs holding its own /dev/net/tun, mode 0666 as udev
//     makes it on a host (devtmpfs alone creates it 0600, and networkd, no
//     longer root, could not create taps).
//
//   - lo is brought up, as systemd does at boot before networkd starts.
//
// There is no D-Bus in the namespace. networkd 252 does not mind: it starts
// connecting to /run/dbus/system_bus_socket, finds nothing, puts an inotify
// watch on /run (and would connect if the socket appeared: sd-bus state
// WATCH_BIND) and carries on. At info level it logs nothing about it; at
// debug level only "sd-bus: starting bus bus-api-network by connecting to
// /run/dbus/system_bus_socket..." and "Bus bus-api-network: changing state
// OPENING → WATCH_BIND". networkctl does not work without the bus, which is
// why the harness reads the state files instead.
//
// networkd runs as root and drops privileges to the systemd-network user
// itself, keeping CAP_NET_ADMIN, CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST
// and CAP_NET_RAW; nothing else is needed.
//
// # Log priorities
//
// With SYSTEMD_LOG_TARGET=console networkd prints bare messages: the
// priority is lost (SYSTEMD_LOG_COLOR would encode some of it as ANSI
// colours). The harness instead sets SYSTEMD_LOG_TARGET=journal and
// bind-mounts onto /run/systemd/journal/socket a datagram socket this
// process listens on. Each message then arrives in the journal native
// protocol with PRIORITY=, MESSAGE=, INTERFACE= for link messages and
// CONFIG_FILE=/CONFIG_LINE= for configuration parse messages (e.g. PRIORITY=4
// for "…/10-br0.network:7: Unknown key 'Foo' in section [Network],
// ignoring."). A multi-line message arrives as one entry per line, as it
// would be printed. Anything networkd writes to stdout/stderr (only if it
// could not reach the socket, or on a crash) is in Result.Stderr. The log
// level defaults to debug; priorities are exact at any level.
//
// # Kernel of the development VM
//
// The VM's kernel has bridge, veth, vxlan, macvlan and tun/tap, but no
// dummy, bond, 802.1Q VLAN (CONFIG_VLAN_8021Q) or bridge VLAN filtering
// (CONFIG_BRIDGE_VLAN_FILTERING). There, [Bridge] VLANFiltering= (even "no")
// makes the kernel reject networkd's bridge parameter message half-way
// ("Bridge parameters could not be set: Operation not supported": timers,
// priority and STP are applied, group forward mask and multicast snooping
// are not; the bridge is still "configured"), [BridgeVLAN] fails the port
// (admin state "failed": "Failed to set bridge VLAN configurations"), and
// VLAN netdevs cannot be created ("Could not create stacked netdev" on the
// parent, which then fails; the VLAN never appears, so name the links to
// wait for). Files using them can still be checked for parse warnings,
// which networkd emits when it loads them, before touching the kernel.
package oracle
