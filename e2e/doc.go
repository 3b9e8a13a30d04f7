// Package e2e holds the tests that run generated labs on real components:
// the systemd-networkd 252 oracle (tier 2), a booted Debian root under
// systemd-nspawn (tier 3) and the same root under QEMU with Debian's kernel
// (tier 4). It has no code of its own outside tests.
package e2e
