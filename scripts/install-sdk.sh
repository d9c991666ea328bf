#!/usr/bin/env bash
# install-sdk.sh — install the hiclaw driver SDK (header, protocol schemas, linker export map and a
# pkg-config file) so that out-of-tree drivers can build against it.
#
#   scripts/install-sdk.sh [--prefix DIR]      (default: /usr/local)
#
# Installs:
#   Sources/DriverABI/include/hiclaw_driver.h -> PREFIX/include/hiclaw/hiclaw_driver.h
#   Sources/DriverABI/schemas/**/*.json       -> PREFIX/share/hiclaw/schemas/
#   Sources/DriverKit/exports.map             -> PREFIX/share/hiclaw/exports.map
#   (generated)                               -> PREFIX/lib/pkgconfig/hiclaw-driver.pc
#
# Then:  PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags hiclaw-driver
#
# Idempotent; works from any directory. DESTDIR is honoured for staged installs (the .pc file
# still names PREFIX). Missing schemas or export map are reported and skipped.
set -euo pipefail

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

prefix=/usr/local
while (($# > 0)); do
  case "$1" in
    --prefix)
      (($# >= 2)) || { echo "install-sdk.sh: --prefix needs a directory" >&2; exit 2; }
      prefix=$2
      shift 2
      ;;
    --prefix=*)
      prefix=${1#--prefix=}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "install-sdk.sh: unknown argument '$1' (try --help)" >&2
      exit 2
      ;;
  esac
done
[[ -n $prefix ]] || { echo "install-sdk.sh: empty --prefix" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
header="$repo/Sources/DriverABI/include/hiclaw_driver.h"
schemas="$repo/Sources/DriverABI/schemas"
exports_map="$repo/Sources/DriverKit/exports.map"
destdir=${DESTDIR:-}

[[ -f $header ]] || { echo "install-sdk.sh: $header not found" >&2; exit 1; }

# The .pc file must name an absolute prefix.
if [[ $prefix != /* ]]; then
  mkdir -p -- "$destdir$prefix"
  prefix=$(cd -- "$destdir$prefix" && pwd -P)
  prefix=${prefix#"$destdir"}
fi
prefix=${prefix%/}
[[ -n $prefix ]] || prefix=/

# SDK version = ABI major.minor.0, read from the header.
abi_define() {
  sed -n "s/^#define[[:space:]]\{1,\}$1[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p" "$header" | head -n 1
}
major=$(abi_define HC_ABI_MAJOR)
minor=$(abi_define HC_ABI_MINOR)
[[ -n $major && -n $minor ]] || {
  echo "install-sdk.sh: cannot read HC_ABI_MAJOR/HC_ABI_MINOR from $header" >&2
  exit 1
}
version="$major.$minor.0"

root="$destdir$prefix"
include_dir="$root/include/hiclaw"
share_dir="$root/share/hiclaw"
pc_dir="$root/lib/pkgconfig"

# install_file SRC DEST: copy with mode 0644, replacing DEST atomically.
install_file() {
  mkdir -p -- "$(dirname -- "$2")"
  install -m 0644 -- "$1" "$2.tmp.$$"
  mv -f -- "$2.tmp.$$" "$2"
  echo "installed $2"
}

install_file "$header" "$include_dir/hiclaw_driver.h"

count=0
if [[ -d $schemas ]]; then
  while IFS= read -r -d '' schema; do
    install_file "$schema" "$share_dir/schemas/${schema#"$schemas"/}"
    count=$((count + 1))
  done < <(find "$schemas" -type f -name '*.json' -print0 | sort -z)
fi
if ((count == 0)); then
  echo "skipped  schemas: no *.json under ${schemas#"$repo"/} yet"
fi

if [[ -f $exports_map ]]; then
  install_file "$exports_map" "$share_dir/exports.map"
else
  echo "skipped  exports.map: ${exports_map#"$repo"/} does not exist yet"
fi

pc_tmp=$(mktemp "${TMPDIR:-/tmp}/hiclaw-driver.pc.XXXXXX")
trap 'rm -f -- "$pc_tmp"' EXIT
cat >"$pc_tmp" <<EOF
prefix=$prefix
includedir=\${prefix}/include
datadir=\${prefix}/share/hiclaw
schemasdir=\${datadir}/schemas
exportsmap=\${datadir}/exports.map
abi_major=$major
abi_minor=$minor

Name: hiclaw-driver
Description: hiclaw driver ABI (header-only C SDK for driver shared libraries)
Version: $version
Cflags: -I\${includedir}/hiclaw
EOF
install_file "$pc_tmp" "$pc_dir/hiclaw-driver.pc"

echo "hiclaw driver SDK $version installed under $root"
echo "use it with: PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags hiclaw-driver"
