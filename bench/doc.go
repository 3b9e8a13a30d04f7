// Package bench holds netgen's performance benchmarks and the tools that
// print the figures of docs/performance.md. The package itself has no code:
// its tests are ordinary `go test -bench` benchmarks of every pipeline stage
// (decode, validate, generate, render) and of a whole `netgen build` on
// synthetic labs from bench/labgen, and the heavier side-by-side figures
// (netplan, scale, bring-up in a booted container) run only when asked for:
//
//	bench/stages.sh      # go test -bench on every stage, output on tmpfs
//	bench/netplan.sh     # build, netgen vs netplan's generator
//	bench/scale.sh       # 1k/5k/10k namespaces: time and peak RSS
//	bench/bringup.sh     # bring-up under systemd-nspawn, vs ip -batch (root)
//	bench/status.sh      # netgen status of 200 namespaces, vs ip -j (root)
//
// bench/labgen writes the synthetic labs (and their netplan and iproute2
// equivalents), bench/cmd/pingall times "every namespace answers",
// bench/cmd/figures runs the build figures, bench/stats prints the tables.
//
// Nothing here asserts a time: a benchmark that fails on a slow or busy
// machine would only teach people to ignore it. The numbers are read by a
// person and recorded, with the machine they came from, in
// docs/performance.md.
package bench
