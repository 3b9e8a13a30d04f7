#!/usr/bin/env bash
# Status figure: `netgen status` of a synthetic lab (default 200 namespaces,
# each with a veth to a host bridge and one to the next namespace) built
# with iproute2 inside a private network and mount namespace of this
# process (unshare), so nothing on the machine changes. Prints the median
# of the rounds for netgen status, and for the three `ip -j` dumps per
# namespace a reader of `ip` output would need, as a Markdown table.
#
#   bench/status.sh [NAMESPACES [ROUNDS]]       (as root)
. "$(dirname "$0")/lib.sh"
n=${1:-200}
rounds=${2:-11}
work=$(mktemp -d /dev/shm/netgen-bench-status.XXXXXX)
trap 'rm -rf "$bin" "$work"' EXIT
go run ./bench/cmd/labgen -namespaces "$n" -neighbours -name status >"$work/lab.yml"
go run ./bench/cmd/labgen -namespaces "$n" -neighbours -name status -format ip-batch >"$work/up.sh"
cat >"$work/run.sh" <<SH
set -eu
mount -t tmpfs netgen-bench /run/netns
ip link set lo up
sh "$work/up.sh" >/dev/null
"$bin/netgen" status "$work/lab.yml" >"$work/status.txt" || true
ms() { echo \$(( \$(date +%s%N) / 1000 )); }
for r in \$(seq $rounds); do
  t0=\$(ms); "$bin/netgen" status "$work/lab.yml" >/dev/null || true; t1=\$(ms)
  for ns in \$(ls /run/netns); do ip -n \$ns -d -j link show >/dev/null; ip -n \$ns -j addr show >/dev/null; ip -n \$ns -j route show >/dev/null; done
  t2=\$(ms)
  echo "\$((t1 - t0)) \$((t2 - t1))"
done >"$work/times"
SH
unshare --net --mount --propagation private sh "$work/run.sh"
tail -n 1 "$work/status.txt" >&2
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(cut -d' ' -f1 "$work/times" | median)
i=$(cut -d' ' -f2 "$work/times" | median)
echo "| reader, $n namespaces | median of $rounds (ms) |"
echo "|---|---|"
printf '| netgen status | %.1f |\n' "$(echo "$s / 1000" | bc -l)"
printf '| ip -j link, addr, route per namespace | %.1f |\n' "$(echo "$i / 1000" | bc -l)"
