#!/usr/bin/env bash
# The whole test suite, every tier, as CI runs it (.ci/run calls exactly
# this). Run as root: the networkd oracle and the boot tiers need it, and
# say loudly that they were skipped otherwise.
#
#   1. gofmt, go vet, staticcheck
#   2. unit and golden tests, error cases, CLI tests, fuzz seeds
#   3. networkd 252 oracle and systemd-analyze verify over every example
#   4. boot tiers: systemd-nspawn and QEMU (Debian's kernel) on a Debian
#      bookworm image built on demand and cached in $NETGEN_TEST_CACHE
#      (default /var/cache/netgen-test)
#   5. a short fuzzing run of decode+validate+render
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"

echo "== static checks" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go tool staticcheck ./...

if [ "$(id -u)" = 0 ]; then
  export NETGEN_BOOT="${NETGEN_BOOT:-1}"
else
  echo "!! not root: the networkd oracle and the boot tiers will be SKIPPED" >&2
fi

# Random labs (e2e/randlab_test.go, docs/testing.md): a fixed seed and a small budget here.
export NETGEN_RANDSEED="${NETGEN_RANDSEED:-1}" NETGEN_RANDLABS="${NETGEN_RANDLABS:-25}" NETGEN_RANDLABS_QEMU="${NETGEN_RANDLABS_QEMU:-4}"

echo "== go test (all tiers)" >&2
go test -count=1 -timeout 75m ./...

echo "== fuzzing decode+validate+render for ${NETGEN_FUZZTIME:-30s}" >&2
go test -run '^$' -fuzz FuzzCompile -fuzztime "${NETGEN_FUZZTIME:-30s}" ./internal/compile
