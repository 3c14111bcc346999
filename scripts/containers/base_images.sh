#!/usr/bin/env bash
# Makes the two local base images of the container test, reusing what a previous run left:
#   PYTHON_BASE  Debian (the host's release, minbase) + python3, venv and `python` on PATH: what the
#                Dockerfile's PYTHON_IMAGE must provide. Built with mmdebstrap, kept as a tarball in
#                the cache folder, imported into podman.
#   REDIS_BASE   PYTHON_BASE + Debian's redis-server, for compose's redis service.
# Each image carries a label with the hash of its recipe; a matching image in podman's storage is used
# as is, a stale or missing one is rebuilt. The base trusts the CAs this machine trusts
# (/usr/local/share/ca-certificates), so pip and apt work behind a TLS-intercepting proxy.
#
# How it fails: any failed step stops the script with its output; a cached tarball that podman cannot
# import is deleted and made again once.
set -euo pipefail
cd "$(dirname "$0")"
. ./common.sh
use_podman_config

LABEL=nchat-jobs.base-key
LOCAL_CAS=/usr/local/share/ca-certificates

recipe_key() {
  { cat base_images.sh redis-base.Containerfile; echo "$BASE_SUITE $(uname -m) ${DEBIAN_MIRROR:-}"
    [ -d "$LOCAL_CAS" ] && find "$LOCAL_CAS" -type f -name '*.crt' -exec sha256sum {} + | sort
  } | sha256sum | cut -c1-16
}

image_key() {
  podman image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

make_python_tarball() {
  local out="$1" hooks=()
  if [ -d "$LOCAL_CAS" ]; then
    hooks+=(--customize-hook="copy-in $LOCAL_CAS /usr/local/share"
      --customize-hook='chroot "$1" update-ca-certificates >/dev/null 2>&1')
  fi
  # pip (in the Dockerfile's builder) uses its own CA list unless told to use the system's.
  hooks+=(--customize-hook='printf "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n" >"$1/etc/pip.conf"')
  timed "base: mmdebstrap $BASE_SUITE" timeout 900 mmdebstrap --quiet --variant=minbase --format=tar \
    --include=python3,python3-venv,python-is-python3,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    "${hooks[@]}" "$BASE_SUITE" "$out.partial" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"}
  mv "$out.partial" "$out"
}

import_python_base() {
  timed "base: import" podman import --quiet --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' \
    --change "LABEL $LABEL=$1" "$2" "$PYTHON_BASE" >/dev/null
}

ensure_python_base() {
  local key="$1" tarball="$CONTAINER_CACHE/python-base-$1.tar"
  if [ "$(image_key "$PYTHON_BASE")" = "$key" ]; then
    note "$PYTHON_BASE is up to date in podman's storage"
    return
  fi
  find "$CONTAINER_CACHE" -maxdepth 1 -name 'python-base-*.tar*' ! -name "python-base-$key.tar" -delete
  if [ -s "$tarball" ]; then
    note "importing the cached base $tarball"
    import_python_base "$key" "$tarball" && return
    note "the cached tarball did not import: making it again"
    rm -f "$tarball"
  fi
  make_python_tarball "$tarball"
  import_python_base "$key" "$tarball"
}

ensure_redis_base() {
  local key="$1"
  if [ "$(image_key "$REDIS_BASE")" = "$key" ]; then
    note "$REDIS_BASE is up to date in podman's storage"
    return
  fi
  timed "base: redis build" timeout 600 podman build --quiet --network host --pull=never \
    --build-arg BASE="$PYTHON_BASE" --label "$LABEL=$key" -t "$REDIS_BASE" \
    -f redis-base.Containerfile . >/dev/null
}

key=$(recipe_key)
ensure_python_base "$key"
ensure_redis_base "$key"
