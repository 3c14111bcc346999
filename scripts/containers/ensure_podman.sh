#!/usr/bin/env bash
# Installs what the container build and tests need, when missing: podman with runc (see common.sh),
# catatonit (the pause process of `podman kube play` pods), mmdebstrap (Debian base images without any
# image registry), curl (the tests speak to the stack as a user would). Uses apt-get as root; anyone
# else gets one line naming the missing packages.
set -euo pipefail
. "$(dirname "$0")/common.sh"

packages=(podman runc catatonit containernetworking-plugins mmdebstrap curl)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null ||
  die "missing packages: ${missing[*]} (install them, or run this as root on Debian)"
note "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# CI has just refreshed the package lists when it installed its own packages; an hour old is fresh enough.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null | head -n 1)" ]; then
  timeout 600 apt-get update -qq
fi
timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
