#!/usr/bin/env bash
# Bring-up figure, in a booted Debian container (systemd-nspawn, systemd as
# PID 1; the test image of internal/testkit/testbed, built on first use): for 100
# and 200 namespaces on one host bridge, netgen (build, daemon-reload,
# networkctl reload, start the lab's target) against the same kernel objects
# made by `ip -batch` and by one `ip` process per command (and netgen's own
# live apply), in turns, until every namespace pings the host; then
# container start to every ping answered with the lab built into the image.
# Run as root; takes about 4 minutes. Progress goes to standard error, the
# tables to standard output.
#
#   bench/bringup.sh                       # 100 and 200 namespaces, 5 rounds, 5 boots
#   NETGEN_BENCH_SIZES=50 NETGEN_BENCH_ROUNDS=3 NETGEN_BENCH_BOOTS=3 bench/bringup.sh
#   NETGEN_BENCH_NETGEN=/path/to/static/netgen bench/bringup.sh   # time another build
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if [ "$(id -u)" != 0 ]; then
  echo "bringup.sh: run as root (it boots containers)" >&2
  exit 1
fi
export NETGEN_BENCH=1 NETGEN_BOOT=1
log=$(mktemp /tmp/netgen-bringup.XXXXXX.log)
set +e
go test -count=1 -timeout 60m -run '^TestBringUp$' -v ./bench 2>&1 | tee "$log" |
  grep --line-buffered -E 'namespaces, round|booted in|^--- FAIL' >&2
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
  echo "bringup.sh: the run failed; full log in $log" >&2
  exit "$status"
fi
sed -n '/^Bring-up in a booted container/,/^--- /p' "$log" | grep -v '^--- '
rm -f "$log"
