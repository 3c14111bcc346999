#!/usr/bin/env bash
# `make container-test`: the image, compose.yaml and the chart's pods, run for real with podman and
# checked by tests/containers. Installs what is missing (as root, with apt-get), makes or reuses the
# Debian base images, builds the image, serves podman's Docker-compatible socket for compose, runs
# pytest, and prints how long each step took.
#   PYTEST_ARGS="-k chart" make container-test      # a subset
#
# How it fails: a failed step or test makes the exit code non-zero and prints the containers' logs.
# Cleanup always runs: leftover containers, pods, volumes and the secret of the tests, then the podman
# service; the timing table is printed either way.
set -euo pipefail
cd "$(dirname "$0")"
. ./common.sh

[ "$(id -u)" -eq 0 ] || die "make container-test drives rootful podman: run it as root (CI does)"
# Container names, host ports 3105/4200 and podman's storage are shared by every checkout on a machine:
# a second run waits for the first.
exec 9>"${TMPDIR:-/tmp}/nchat-jobs-container-test.lock"
flock --wait 1800 9 || die "another make container-test held its lock for 30 minutes"
PROJECT=nchat-jobs       # compose.yaml's name
CHART_RELEASE=ctest      # tests/containers/test_chart_pods.py
CONTAINER_LOGS="$CONTAINER_CACHE/logs"
export CONTAINER_TIMINGS CONTAINER_LOGS APP_IMAGE REDIS_BASE
: >"$CONTAINER_TIMINGS"
rm -rf "$CONTAINER_LOGS" && mkdir -p "$CONTAINER_LOGS"
use_podman_config
SERVICE_PID="" SOCKET_DIR="" STARTED=$(date +%s)

print_logs() {
  local f name
  for f in "$CONTAINER_LOGS"/*.log; do
    # podman logs a line per healthcheck it cannot hand to systemd: known, and no help here.
    [ -s "$f" ] && { echo "===== $(basename "$f") (last 300 lines)"; grep -v "systemd connection" "$f" | tail -n 300; }
  done
  for name in $(podman ps -a --format '{{.Names}}' --filter "label=com.docker.compose.project=$PROJECT") \
    $(podman ps -a --format '{{.Names}}' --filter "name=^$CHART_RELEASE-"); do
    echo "===== podman logs $name (last 200 lines)"
    podman logs --tail 200 "$name" 2>&1
  done
}

# What a test run killed before its own teardown left behind; no grace period: the logs are printed.
remove_leftovers() {
  local pod
  podman ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r podman rm --force --time 0 >/dev/null
  podman volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r podman volume rm --force >/dev/null
  for pod in $(podman pod ps -q --filter "label=app.kubernetes.io/instance=$CHART_RELEASE"); do
    podman pod rm --force --time 0 "$pod" >/dev/null
  done
  podman rm --force --ignore --time 0 "$CHART_RELEASE-redis" >/dev/null
  podman secret rm "$CHART_RELEASE-jobs" >/dev/null 2>&1 || true
}

print_timings() {
  echo "---- make container-test: seconds per step"
  awk -F'\t' '{printf "  %-48s %7s\n", $1, $2}' "$CONTAINER_TIMINGS"
  printf '  %-48s %7s\n' "total" "$(($(date +%s) - STARTED))"
}

cleanup() {
  local rc=$?
  set +e
  [ "$rc" -ne 0 ] && print_logs
  timed "cleanup" remove_leftovers
  if [ -n "$SERVICE_PID" ]; then
    kill "$SERVICE_PID" 2>/dev/null
    wait "$SERVICE_PID" 2>/dev/null
  fi
  [ -n "$SOCKET_DIR" ] && rm -rf "$SOCKET_DIR"
  print_timings
  [ "$rc" -eq 0 ] && echo "make container-test: passed" || echo "make container-test: FAILED (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT

# compose talks to podman through its Docker-compatible API on a socket of this run's own.
start_service() {
  SOCKET_DIR=$(mktemp -d)
  podman system service --time=0 "unix://$SOCKET_DIR/podman.sock" >"$CONTAINER_LOGS/podman-service.log" 2>&1 &
  SERVICE_PID=$!
  export DOCKER_HOST="unix://$SOCKET_DIR/podman.sock"
  # compose (and podman, which reads it for registry logins) see no user docker configuration.
  export DOCKER_CONFIG="$SOCKET_DIR/docker-config"
  mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
  for _ in $(seq 1 60); do
    curl -sf --unix-socket "$SOCKET_DIR/podman.sock" http://podman/_ping >/dev/null && return 0
    sleep 0.5
  done
  die "podman system service did not answer on $DOCKER_HOST within 30 s"
}

timed "apt: podman, runc, mmdebstrap (when missing)" ./ensure_podman.sh
./build_image.sh
remove_leftovers
start_service
cd "$REPO_ROOT"
# shellcheck disable=SC2086 # PYTEST_ARGS is a list of arguments
timed "pytest tests/containers (all checks)" timeout 1500 .venv/bin/pytest tests/containers -p no:cacheprovider \
  --timeout=300 --durations=10 ${PYTEST_ARGS:-}
