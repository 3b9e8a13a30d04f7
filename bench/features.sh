#!/usr/bin/env bash
# Features figure: `netgen build --root` of a 200-namespace lab, plain and
# with each feature (services, netem, wires, two machines), fresh, into an
# empty tmpfs root, the labs in turns.
#
#   bench/features.sh [-namespaces 200] [-rounds 11] [-dir /dev/shm/...]
. "$(dirname "$0")/lib.sh"
"$bin/figures" features -netgen "$bin/netgen" "$@"
