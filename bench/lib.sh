# Shared by the figure scripts: build a static netgen from this tree the way
# users get it (no VCS information, as go install and distribution builds
# have none) and the figures tool, into a directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
bin=$(mktemp -d /tmp/netgen-bench-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
CGO_ENABLED=0 go build -buildvcs=false -o "$bin/netgen" ./cmd/netgen
go build -o "$bin/figures" ./bench/cmd/figures

# goinstall_netgen DIR: `go install github.com/netgen-lab/netgen/cmd/netgen@VERSION`
# into DIR, from a module proxy on disk holding this tree's HEAD as version
# v0.99.0, with a module cache of its own (the shared one would keep the
# first v0.99.0 it saw; dependencies come from the shared cache's download
# directory, nothing is fetched): the binary a user gets from a module path,
# with a module version and sum and no VCS information.
goinstall_netgen() {
  local out=$1 m=github.com/netgen-lab/netgen v=v0.99.0
  local proxy="$bin/proxy" d="$bin/proxy/$m/@v"
  mkdir -p "$d" "$out"
  git archive --format=zip --prefix="$m@$v/" HEAD >"$d/$v.zip"
  git show HEAD:go.mod >"$d/$v.mod"
  echo "{\"Version\":\"$v\",\"Time\":\"2026-12-02T00:00:00Z\"}" >"$d/$v.info"
  echo "$v" >"$d/list"
  GOPROXY="file://$proxy,file://$(go env GOMODCACHE)/cache/download" GOSUMDB=off GOTOOLCHAIN=local \
    GOMODCACHE="$bin/modcache" GOFLAGS=-modcacherw GOBIN="$out" CGO_ENABLED=0 go install "$m/cmd/netgen@$v"
}
