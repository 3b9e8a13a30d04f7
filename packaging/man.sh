#!/usr/bin/env bash
# Renders a markdown page as a man page on standard output:
#
#   packaging/man.sh SRC.md NAME SECTION VERSION [DESCRIPTION]
#
# With DESCRIPTION, SRC is a reference page (docs/reference.md): everything
# before its first "## " section (its title and introduction, meant for
# readers of the markdown) is replaced by a NAME section
# "NAME - DESCRIPTION", and each "##" section becomes a section of the man
# page. Without it, SRC is written as a man page already (docs/netgen.1.md).
# Markdown tables become tagged paragraphs (the first column the tag): man
# cannot wrap the long cells of a table. HTML comments (the snippet markers
# of docs/testing.md) are dropped. Uses go-md2man from Debian's packages.
set -euo pipefail
src=$1 name=$2 section=$3 version=$4 desc=${5:-}
upper=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)
case "$section" in
  1) manual="User Commands" ;;
  5) manual="File Formats Manual" ;;
  *) manual="netgen" ;;
esac
{
  printf '%% %s %s "%s" "netgen %s" "%s"\n\n' "$upper" "$section" "$date" "$version" "$manual"
  if [ -n "$desc" ]; then
    printf '# NAME\n\n%s - %s\n\n' "$name" "$desc"
    sed -n '/^## /,$p' "$src"
  else
    cat "$src"
  fi
} | sed '/^<!--.*-->$/d' | awk '
  function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
  function cells(line, out,   n) {
    sub(/^\|/, "", line); sub(/\|[ \t]*$/, "", line)
    return split(line, out, "|")
  }
  /^\|/ {
    if (!intable) { nh = cells($0, head); intable = 1; next }
    if ($0 ~ /^\|[-:| ]+\|?[ \t]*$/) next
    n = cells($0, c)
    d = ""
    for (i = 2; i <= n; i++) {
      h = tolower(trim(head[i])); v = trim(c[i])
      part = (h == "meaning" || h == "rule") ? v : h ": " v
      d = d (d == "" ? "" : "; ") part
    }
    print trim(c[1]); print ":   " d; print ""
    next
  }
  { intable = 0; print }
' | go-md2man
