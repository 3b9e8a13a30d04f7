#!/usr/bin/env bash
# Scale figure: `netgen build --root` of 1k, 5k and 10k namespaces, each with
# a veth to a host bridge and one to the next namespace, into an empty tmpfs
# root: median time, time per namespace, growth per doubling, peak RSS.
#
#   bench/scale.sh [-sizes 1000,5000,10000] [-rounds 5] [-dir /dev/shm/...]
. "$(dirname "$0")/lib.sh"
"$bin/figures" scale -netgen "$bin/netgen" "$@"
