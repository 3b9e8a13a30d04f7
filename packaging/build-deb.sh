#!/usr/bin/env bash
# Builds the Debian package of netgen from this checkout:
#
#   packaging/build-deb.sh OUTDIR
#
# writes OUTDIR/netgen_VERSION_ARCH.deb and prints its path as the last line.
# Needs go, dpkg-deb (dpkg) and go-md2man (setup.sh installs it); no
# debhelper: the package is a Go binary, two man pages, completions, docs.
#
# VERSION is the top entry of packaging/changelog when HEAD is tagged
# vVERSION; otherwise VERSION~gitYYYYMMDD.HASH (sorting before VERSION), with
# a snapshot entry added to the changelog. Timestamps come from HEAD's
# commit time, so the same commit gives the same package.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$top"

for tool in go dpkg-deb go-md2man gzip; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (run ./setup.sh)" >&2; exit 1; }
done

arch=$(dpkg --print-architecture)
case "$arch" in
  amd64 | arm64) goarch=$arch ;;
  *) echo "$0: architecture $arch is not built" >&2; exit 1 ;;
esac

# Version and dates from the changelog and git.
base=$(sed -n '1s/^netgen (\([^)]*\)).*/\1/p' packaging/changelog)
[ -n "$base" ] || { echo "$0: packaging/changelog: no version in its first line" >&2; exit 1; }
if git rev-parse --git-dir >/dev/null 2>&1; then
  epoch=$(git log -1 --format=%ct)
  hash=$(git rev-parse --short=12 HEAD)
  if [ "$(git tag --points-at HEAD)" = "v$base" ] && git diff --quiet HEAD; then
    version=$base
  else
    version="$base~git$(date -u -d "@$epoch" +%Y%m%d).$hash"
    # Uncommitted changes are in the package too: say so.
    git diff --quiet HEAD || version="$version+dirty"
  fi
else
  epoch=$(date +%s)
  hash=unknown
  version="$base~local"
fi
export SOURCE_DATE_EPOCH=$epoch
maintainer=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' packaging/changelog | head -n1)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/root"
doc="$pkg/usr/share/doc/netgen"
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/lib/systemd/system-generators" \
  "$pkg/usr/share/man/man1" "$pkg/usr/share/man/man5" "$doc/examples" \
  "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
  "$pkg/etc/netgen" "$pkg/usr/share/lintian/overrides"

# The binary: static (no libc dependency), stripped, and without build
# paths, so the same commit builds the same bytes.
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -trimpath \
  -ldflags "-s -w -X github.com/netgen-lab/netgen/internal/cli.Version=$version" \
  -o "$pkg/usr/bin/netgen" ./cmd/netgen
# The generator is the same binary under the name systemd runs it by.
ln -s ../../../bin/netgen "$pkg/usr/lib/systemd/system-generators/netgen-generator"

# Man pages from markdown: netgen(1) from docs/netgen.1.md, netgen-lab(5)
# from the lab format reference.
"$here/man.sh" docs/netgen.1.md netgen 1 "$version" "" | gzip -9n >"$pkg/usr/share/man/man1/netgen.1.gz"
"$here/man.sh" docs/reference.md netgen-lab 5 "$version" "the netgen lab file format" | gzip -9n >"$pkg/usr/share/man/man5/netgen-lab.5.gz"

install -m 0644 packaging/netgen.bash "$pkg/usr/share/bash-completion/completions/netgen"
install -m 0644 packaging/_netgen "$pkg/usr/share/zsh/vendor-completions/_netgen"
install -m 0644 README.md "$doc/README.md"
for f in docs/design.md docs/lab-format.md docs/reference.md; do
  install -m 0644 "$f" "$doc/$(basename "$f")"
done
for f in examples/*.yml; do
  case "$f" in *.reach.yml) continue ;; esac
  install -m 0644 "$f" "$doc/examples/"
done
"$here/copyright.sh" >"$doc/copyright"
{
  if [ "$version" != "$base" ]; then
    printf 'netgen (%s) unstable; urgency=medium\n\n  * Development snapshot of commit %s.\n\n -- %s  %s\n\n' \
      "$version" "$hash" "$maintainer" "$(date -u -R -d "@$epoch")"
  fi
  cat packaging/changelog
} | gzip -9n >"$doc/changelog.gz"

install -m 0644 packaging/lintian-overrides "$pkg/usr/share/lintian/overrides/netgen"
install -m 0755 packaging/postinst "$pkg/DEBIAN/postinst"
installed=$(du -sk --apparent-size --exclude=DEBIAN "$pkg" | cut -f1)
cat >"$pkg/DEBIAN/control" <<EOF
Package: netgen
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed
Depends: iproute2, systemd (>= 247)
Recommends: bash-completion
Section: net
Priority: optional
Description: virtual network labs as systemd-networkd files and units
 netgen compiles one YAML file describing a network lab (network
 namespaces, veth pairs, Linux bridges, VLANs, taps, uplinks) into
 systemd-networkd .netdev/.network files for the host's root namespace
 and systemd units that build the named namespaces, and applies them
 live. The lab comes back at every boot.
 .
 A lab file dropped in /etc/netgen comes up at the next boot with no
 command run: netgen runs as a systemd generator.
EOF
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"

# Same mtimes for the same commit.
find "$pkg" -exec touch -h -d "@$epoch" {} +
deb="$out/netgen_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
echo "$deb"
