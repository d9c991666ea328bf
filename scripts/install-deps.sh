#!/usr/bin/env bash
# Installs the system packages hiclaw builds and tests with (Debian 12). Idempotent: installs only
# what is missing, so a second run costs a few dpkg look-ups.
set -euo pipefail

# curl: the black-box tests read watch streams with it.
packages=(libcurl4-openssl-dev libyaml-dev libsqlite3-dev pkg-config make gcc binutils curl)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH (install Swift 6.3 from swift.org)" >&2; exit 1; }
