#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are missing, for what `make test` runs beyond the
# plain build: Debian's headless browser (chromium, chromium-driver) for the labeling page's browser test, and Open
# MPI (openmpi-bin) for the data-parallel tests. Elsewhere (macOS, no apt) it does nothing and those tests skip
# themselves.
set -euo pipefail

[ "$(uname -s)" = "Linux" ] || exit 0
command -v apt-get >/dev/null || exit 0
missing=()
for package in "$@"; do
  # "install ok installed" only: a removed package can leave its configuration behind and still answer dpkg -s.
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "apt-install: ${missing[*]} missing and I am not root (no sudo either): apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "apt-install: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
