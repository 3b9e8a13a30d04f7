#!/usr/bin/env bash
# One-time (and idempotent) set-up of a machine for building and testing
# netgen: the Debian packages the test tiers use and the linters. Safe to run
# again: it only installs what is missing. Needs root for apt-get.
set -euo pipefail
cd "$(dirname "$0")"

# Packages: systemd (networkd, systemd-analyze), iproute2 and util-linux
# (unshare, nsenter) for the networkd oracle; debootstrap, systemd-container
# (systemd-nspawn), qemu-system-x86 and e2fsprogs (mkfs.ext4 -d) for the boot
# tiers; shellcheck for every generated unit script; graphviz (dot) for the
# drawings of `netgen graph`, and chromium for Mermaid's own command line,
# which renders them too (internal/testkit/mermaid; Node.js and npm, when
# the machine has none, come from Debian as well); go-md2man (the man
# pages) and lintian for the Debian package (packaging/build-deb.sh);
# bash-completion and zsh to test its shell completion.
packages=(systemd iproute2 util-linux debootstrap systemd-container qemu-system-x86 e2fsprogs shellcheck graphviz chromium
  go-md2man lintian bash-completion zsh)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: missing packages ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="$PATH:/usr/local/go/bin"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "setup.sh: Go (1.26 or newer) is needed: https://go.dev/doc/install" >&2
  exit 1
fi
# Go tools are `tool` lines in go.mod (pinned by go.sum like any
# dependency): `go tool staticcheck`. Building them once here keeps the first
# test run from paying for it.
go mod download
go build -o /dev/null tool

# Mermaid's command line (@mermaid-js/mermaid-cli, pinned with every
# dependency by package-lock.json) for the graph tier. Its puppeteer would
# download a browser of its own, which this machine cannot fetch: it drives
# Debian's chromium instead (internal/testkit/mermaid/puppeteer.json).
mermaid=internal/testkit/mermaid
if ! cmp -s "$mermaid/package-lock.json" "$mermaid/node_modules/.netgen-lock" 2>/dev/null; then
  echo "setup.sh: npm ci in $mermaid" >&2
  (cd "$mermaid" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
    cp package-lock.json node_modules/.netgen-lock)
fi
echo "setup.sh: ready" >&2
