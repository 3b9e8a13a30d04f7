#!/usr/bin/env bash
# Build figure, netgen vs netplan: 10 uplinks, 1000 VLANs over them, 200
# bridges with the VLANs as ports and one address each, output on tmpfs
# (/dev/shm), fresh output every run, the tools in turns; prints a Markdown
# table with medians and the median of the per-round ratios. netgen is
# timed as two binaries of this tree, both without VCS information: `go
# build -buildvcs=false`, and `go install MODULE@VERSION` from a module
# proxy on disk (lib.sh; it takes the committed HEAD).
#
#   bench/netplan.sh [-rounds 21] [-uplinks 10] [-vlans 1000] [-bridges 200] [-dir /dev/shm/...]
#
# NETGEN_BENCH_BASELINE=BIN times another netgen binary in the same turns
# (e.g. one built from an older commit), labelled "baseline".
#
# Needs Debian's netplan.io (apt-get install netplan.io): its generator
# binary and `netplan generate --root-dir`. Nothing outside the work
# directory is written; netplan only reads and writes under --root-dir.
. "$(dirname "$0")/lib.sh"
if [ ! -x /usr/lib/netplan/generate ] && [ ! -x /lib/netplan/generate ]; then
  echo "netplan.sh: netplan's generator is missing: apt-get install netplan.io" >&2
  exit 1
fi
goinstall_netgen "$bin/goinstall" 2>/dev/null
netgens="go build -buildvcs=false=$bin/netgen,go install MODULE@v0.99.0=$bin/goinstall/netgen"
if [ -n "${NETGEN_BENCH_BASELINE:-}" ]; then
  netgens="$netgens,baseline=$NETGEN_BENCH_BASELINE"
fi
"$bin/figures" netplan -netgen "$netgens" "$@"
