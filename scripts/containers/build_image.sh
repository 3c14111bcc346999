#!/usr/bin/env bash
# `make image`: builds this repository's Dockerfile with podman, FROM the local Debian base
# (base_images.sh) instead of the python image of a registry, and tags it as compose.yaml's default
# image name, so `docker compose up --no-build` runs exactly this build.
#   PYTHON_IMAGE=python:3.11.13-slim-bookworm make image   # where a registry is reachable
#
# How it fails: prints the build log's last 60 lines and exits 1.
set -euo pipefail
cd "$(dirname "$0")"
. ./common.sh
use_podman_config

./ensure_podman.sh
if [ -z "${PYTHON_IMAGE:-}" ]; then
  ./base_images.sh
  PYTHON_IMAGE="$PYTHON_BASE"
fi

build_log="$CONTAINER_CACHE/image-build.log"
note "building $APP_IMAGE from $PYTHON_IMAGE"
# --network host: pip in the builder reaches the package index through the host's network.
if ! timed "image: build" timeout 900 podman build --network host --build-arg PYTHON_IMAGE="$PYTHON_IMAGE" \
  -t "$APP_IMAGE" "$REPO_ROOT" >"$build_log" 2>&1; then
  tail -n 60 "$build_log" >&2
  die "podman build failed (full log: $build_log)"
fi
# Each build with changed sources leaves its builder stage behind, untagged; an hour keeps the cache of
# the latest build and bounds what piles up on a development machine.
podman image prune --force --filter until=1h >/dev/null
note "built $APP_IMAGE ($(podman image inspect --format '{{.Size}}' "$APP_IMAGE" | numfmt --to=iec))"
