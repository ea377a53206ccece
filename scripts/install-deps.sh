#!/usr/bin/env bash
# Installs the system libraries RLHFKit links against, when missing: libopenblas-dev on Debian/Ubuntu.
set -euo pipefail

[ "$(uname -s)" = "Linux" ] || exit 0
dpkg-query -W -f='${Status}' libopenblas-dev 2>/dev/null | grep -q "install ok installed" && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "install-deps: libopenblas-dev is missing and I am not root (no sudo either): apt-get install libopenblas-dev" >&2
  exit 1
fi
echo "install-deps: installing libopenblas-dev" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenblas-dev >/dev/null
