// Package testbed boots real systems for netgen's tests: what netgen writes
// into an OS image is only proven once systemd has booted it.
//
// Two tiers share one Debian bookworm image:
//
//   - nspawn (BootNspawn): the image booted as a container with
//     systemd-nspawn --private-network. It boots in about 0.3 s, so most lab
//     tests belong here. It runs on the host's kernel, which on this
//     project's machines lacks 802.1Q VLANs, bridge VLAN filtering, dummy and
//     bonding links; udev does not run in a container, and networkd does not
//     wait for it there.
//   - QEMU (RunQEMU): the image as an ext4 disk, booted with Debian's own
//     kernel under TCG (KVM hangs on these machines) with no NIC. A boot
//     takes about 20 s plus 1 s to make the disk; a lab that needs the
//     missing kernel features, or that must come back after a reboot, is
//     tested here. With the default of one vCPU, two guests booted in
//     parallel (t.Parallel) take no longer than one: prefer that to more
//     vCPUs.
//
// Neither tier has any network path out of the machine: whatever a test sends
// stays inside the container or the guest.
//
// # Environment
//
//   - NETGEN_BOOT=1 enables the boot tests. Without it, or when not run as
//     root, EnsureImage (and RequireBoot) skip the test with a loud message,
//     so a plain "go test ./..." stays fast and needs no privileges.
//   - NETGEN_TEST_CACHE is the cache directory, /var/cache/netgen-test by
//     default. It holds image-KEY/ (the tree, its vmlinuz and initrd.img, and
//     a "ready" file recording how it was built), debs/ (packages kept for
//     rebuilds), work/ (per-test copies and disks, removed at test cleanup)
//     and lock. A test process that dies without cleanup (a go test
//     -timeout panic) leaves a work directory, maybe a running container or
//     guest, and cgroups: the next EnsureImage, in any process, removes them.
//   - NETGEN_TEST_MIRROR overrides the Debian mirror, which is otherwise read
//     from the host's apt sources: the project never names a mirror itself.
//
// # Cost
//
// The first EnsureImage on a machine installs missing host packages
// (debootstrap, systemd-container, qemu-system-x86, e2fsprogs; about 30 s)
// and builds the image (about 1 min 45 s, most of it debootstrap). KEY
// hashes the package list and the build recipe, so changing either rebuilds
// the image once and removes the old one. Builds are atomic (made in a
// temporary directory, then renamed) and serialised between processes by a
// lock. The image takes about 360 MB and the package cache about 110 MB; each
// Copy takes another 360 MB for the length of a test (0.3 to 0.7 s to make)
// and each QEMU disk about as much again.
package testbed
