#!/usr/bin/env bash
# Build figure, netgen vs netplan: 10 uplinks, 1000 VLANs over them, 200
# bridges with the VLANs as ports and one address each, output on tmpfs
# (/dev/shm), fresh output every run, the tools in turns; prints a Markdown
# table with medians and the median of the per-round ratios.
#
#   bench/netplan.sh [-rounds 21] [-uplinks 10] [-vlans 1000] [-bridges 200] [-dir /dev/shm/...]
#
# Needs Debian's netplan.io (apt-get install netplan.io): its generator
# binary and `netplan generate --root-dir`. Nothing outside the work
# directory is written; netplan only reads and writes under --root-dir.
. "$(dirname "$0")/lib.sh"
if [ ! -x /usr/lib/netplan/generate ] && [ ! -x /lib/netplan/generate ]; then
  echo "netplan.sh: netplan's generator is missing: apt-get install netplan.io" >&2
  exit 1
fi
"$bin/figures" netplan -netgen "$bin/netgen" "$@"
