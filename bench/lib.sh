# Shared by the figure scripts: build a static netgen from this tree (what a
# user installs) and the figures tool, into a directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
bin=$(mktemp -d /tmp/netgen-bench-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
# -buildvcs=true: the unchanged re-run shortcut trusts only a build that
# knows its VCS revision (some machines set GOFLAGS=-buildvcs=false).
CGO_ENABLED=0 go build -buildvcs=true -o "$bin/netgen" ./cmd/netgen
go build -o "$bin/figures" ./bench/cmd/figures
