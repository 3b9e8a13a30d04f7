#!/usr/bin/env bash
# Writes /usr/share/doc/netgen/copyright on standard output: netgen's own
# notice, then every Go module linked into the binary (and Go's standard
# library and runtime) with its license text as the module ships it. The
# list comes from `go list -deps`, so a new dependency is never left out.
set -euo pipefail
cd "$(dirname "$0")/.."

cat <<'EOF'
netgen: virtual network labs as systemd-networkd files and units

Copyright: the netgen authors
License: not yet stated: the netgen authors have not chosen a license for
 netgen itself (its repository has no license file).

The netgen binary is statically linked and contains the following
components, each under its own license.
EOF

# section NAME VERSION LICENSE-FILE
section() {
  printf '\n%s\n%s %s\n%s\n\n' "------------------------------------------------------------------------" "$1" "$2" "------------------------------------------------------------------------"
  if grep -q '^ *Apache License$' "$3" && grep -q 'Version 2.0, January 2004' "$3"; then
    # Debian ships the Apache license once for every package.
    echo "License: Apache-2.0; see /usr/share/common-licenses/Apache-2.0"
    local notice
    notice="$(dirname "$3")/NOTICE"
    if [ -f "$notice" ]; then
      echo
      cat "$notice"
    fi
  else
    cat "$3"
  fi
}

section "The Go standard library and runtime" "$(go env GOVERSION)" "$(go env GOROOT)/LICENSE"
go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' ./cmd/netgen |
  LC_ALL=C sort -u | while read -r path version dir; do
  lic=""
  for f in LICENSE LICENSE.txt LICENSE.md COPYING; do
    if [ -f "$dir/$f" ]; then
      lic="$dir/$f"
      break
    fi
  done
  if [ -z "$lic" ]; then
    echo "copyright.sh: $path $version has no license file in $dir" >&2
    exit 1
  fi
  section "$path" "$version" "$lic"
done
