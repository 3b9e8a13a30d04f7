#!/usr/bin/env bash
# The stage benchmarks (decode, validate, generate, render, whole compile,
# diagnostics, and an in-process `netgen build` fresh and unchanged) on the
# example and synthetic labs, with the build output on tmpfs.
#
#   bench/stages.sh [go test flags, e.g. -benchtime 2s -count 5 -cpuprofile cpu.out]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
TMPDIR=/dev/shm go test -run '^$' -bench . -benchmem "$@" ./bench
