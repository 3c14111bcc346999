# Shared by the container scripts (sourced, not run): where the cache lives, the podman configuration
# this kind of machine needs, image names, and a step timer.
#
# How it fails: `die` prints one line naming what is missing and exits 1; a step that fails keeps its
# exit code (the callers run with `set -euo pipefail`).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Git-ignored; everything in it can be deleted at any time (it only saves minutes).
CONTAINER_CACHE="${CONTAINER_CACHE:-$REPO_ROOT/.cache/containers}"
PYTHON_BASE="${PYTHON_BASE:-localhost/nchat-jobs-base:python}"
REDIS_BASE="${REDIS_BASE:-localhost/nchat-jobs-base:redis}"
APP_IMAGE="${APP_IMAGE:-localhost/nchat-jobs:local}"
# The Debian release of the base images: the host's own, so its packages match what CI installs.
BASE_SUITE="${BASE_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-bookworm}")}"
# Each step appends "name<TAB>seconds" here; container_test.sh prints the table at the end.
CONTAINER_TIMINGS="${CONTAINER_TIMINGS:-$CONTAINER_CACHE/timings.tsv}"

mkdir -p "$CONTAINER_CACHE"

die() {
  echo "error: $*" >&2
  exit 1
}

note() {
  echo "==> $*" >&2
}

# timed NAME COMMAND...: runs the command and records how long it took, even when it fails.
timed() {
  local name="$1" start rc=0 ms
  shift
  start=$(date +%s%N)
  "$@" || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  printf '%s\t%d.%d\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) >>"$CONTAINER_TIMINGS"
  return "$rc"
}

# Root here lacks CAP_SYS_RESOURCE, so podman's default ulimits (nofile 1048576) cannot be set, and
# crun refuses this host's hybrid cgroup layout: lower ulimits and runc fix both. Passed through the
# environment only; nothing in /etc changes.
use_podman_config() {
  local conf="$CONTAINER_CACHE/containers.conf"
  cat >"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$conf"
}
