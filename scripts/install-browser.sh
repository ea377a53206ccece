#!/usr/bin/env bash
# Installs Debian's headless browser for the labeling page's browser test, when missing: chromium and
# chromium-driver. Elsewhere (macOS, no apt) it does nothing and that test skips itself.
set -euo pipefail

[ "$(uname -s)" = "Linux" ] || exit 0
command -v apt-get >/dev/null || exit 0
missing=()
for package in chromium chromium-driver; do
  # "install ok installed" only: a removed package can leave its configuration behind and still answer dpkg -s.
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "install-browser: ${missing[*]} missing and I am not root (no sudo either): apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-browser: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
