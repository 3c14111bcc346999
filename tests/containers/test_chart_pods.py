"""The Helm chart's pods run the image the way the chart says: the rendered Deployments are started
with `podman kube play`, then each container is compared with its manifest (command, environment,
securityContext, mounts), probed on the manifest's probe paths and ports, given a job, its logs searched
for secrets, and stopped.

Podman 4.3's kube play needs two changes to its input, and neither alters what a container runs:
- with host networking (containers must not reach private address ranges here, so no bridge) it
  refuses every `ports` entry ("PortMappings can only be used with Bridge or slirp4netns networking").
  The probes refer to those ports by name, so `ports` and probes are left out of what is played; the
  test runs every probe itself, on the port the manifest names;
- it resolves a secretKeyRef from a podman secret holding the Secret's `data` map as JSON (a Secret
  document in its input ends in "secret ... is not valid JSON"), so the rendered Secret becomes one.
Redis is the chart's `externalRedis` (by host and port, password from the Secret): a redis-server
container on a free loopback port. The bundled Redis is a StatefulSet, a kind kube play does not run.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from support.podman import REPO, Podman, curl, http_status, wait_until
from support.redis_server import free_port
from support.sse_follow import JobStream

RELEASE = "ctest"
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
APP_IMAGE = os.environ.get("APP_IMAGE", "localhost/nchat-jobs:local")
REDIS_BASE = os.environ.get("REDIS_BASE", "localhost/nchat-jobs-base:redis")


def chart_values(ports: SimpleNamespace, secrets: Any) -> dict[str, Any]:
    repository, _, tag = APP_IMAGE.rpartition(":")
    return {
        "image": {"repository": repository, "tag": tag},
        "redis": {"enabled": False},
        "externalRedis": {"host": "127.0.0.1", "port": ports.redis},
        "auth": {
            "redisPassword": secrets.redis_password,
            "dashboardPassword": secrets.dashboard_password,
            "apiToken": secrets.api_token,
        },
        "api": {"replicas": 1, "port": ports.api},
        "worker": {"replicas": 1, "probePort": ports.worker},
        "scheduler": {"replicas": 1, "probePort": ports.scheduler},
        "dashboard": {"port": ports.dashboard},
        "tests": {"enabled": False},
    }


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    import helm_python as helm

    helm.disable_logging()
    with helm.Chart.load(str(REPO / "charts" / "jobs")) as chart:
        files = chart.render(values, name=RELEASE, namespace="jobs", is_install=True)
    docs = [yaml.safe_load_all(text) for path, text in files.items() if not path.endswith("NOTES.txt")]
    return [doc for group in docs for doc in group if doc]


def playable(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deployments without `ports` and probes (see the module docstring), and the ConfigMaps."""
    out = [copy.deepcopy(o) for o in objects if o["kind"] in ("Deployment", "ConfigMap")]
    for deployment in [o for o in out if o["kind"] == "Deployment"]:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for key in ("ports", *PROBES):
                container.pop(key, None)
    return out


def remove_leftovers(podman: Podman) -> None:
    listed = podman("pod", "ps", "-q", f"--filter=label=app.kubernetes.io/instance={RELEASE}")
    for pod in listed.stdout.split():
        podman("pod", "rm", "--force", pod, timeout=60)
    podman("rm", "--force", "--ignore", f"{RELEASE}-redis", timeout=60)
    podman("secret", "rm", f"{RELEASE}-jobs", check=False)


def start_redis(podman: Podman, port: int, password: str) -> None:
    name = f"{RELEASE}-redis"
    server = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password]
    podman("run", "--detach", "--name", name, "--network", "host", REDIS_BASE, *server, "--save", "")
    ping = ["exec", "--env", f"REDISCLI_AUTH={password}", name, "redis-cli", "-p", str(port), "ping"]
    wait_until(lambda: podman(*ping, check=False).stdout.strip() == "PONG", 30, "the chart's Redis")


def pods(objects: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """(Deployment, container, podman container name) for every container of every Deployment."""
    out = []
    for deployment in [o for o in objects if o["kind"] == "Deployment"]:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            out.append((deployment, container, f"{deployment['metadata']['name']}-pod-0-{container['name']}"))
    return out


def probe_urls(container: dict[str, Any]) -> list[str]:
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    gets = [container[kind]["httpGet"] for kind in PROBES if kind in container]
    return [f"http://127.0.0.1:{ports.get(g['port'], g['port'])}{g['path']}" for g in gets]


@pytest.fixture(scope="module")
def chart(
    podman: Podman,
    secret_values: Any,
    timings: Any,
    keep_logs: Callable[[str, str], None],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SimpleNamespace]:
    remove_leftovers(podman)
    ports = SimpleNamespace(**{k: free_port() for k in ("redis", "api", "worker", "scheduler", "dashboard")})
    objects = render(chart_values(ports, secret_values))
    folder = tmp_path_factory.mktemp("chart")
    manifest = folder / "pods.yaml"
    manifest.write_text(yaml.safe_dump_all(playable(objects), sort_keys=False))
    secret = next(o for o in objects if o["kind"] == "Secret")
    (folder / "secret.json").write_text(json.dumps(secret["data"]))
    started = time.monotonic()
    try:
        start_redis(podman, ports.redis, secret_values.redis_password)
        podman("secret", "create", secret["metadata"]["name"], str(folder / "secret.json"))
        podman("kube", "play", "--network", "host", str(manifest), timeout=180)
        for _, container, name in pods(objects):
            for url in probe_urls(container):
                wait_until(lambda u=url: http_status(u) == 200, 60, f"{name}: {url}")
        timings.record("chart: kube play until every probe answers", started)
        yield SimpleNamespace(objects=objects, ports=ports, secret=secret)
    finally:
        keep_logs("chart", podman.logs([name for _, _, name in pods(objects)] + [f"{RELEASE}-redis"]))
        podman("kube", "down", str(manifest), timeout=120, check=False)
        remove_leftovers(podman)


def expected_env(
    container: dict[str, Any], objects: list[dict[str, Any]], secret: dict[str, Any]
) -> dict[str, str]:
    """The environment the manifest gives the container, every reference resolved."""
    maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    env = {k: v for src in container.get("envFrom", []) for k, v in maps[src["configMapRef"]["name"]].items()}
    for item in container.get("env", []):
        source = item.get("valueFrom", {})
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "secretKeyRef" in source:
            env[item["name"]] = base64.b64decode(secret["data"][source["secretKeyRef"]["key"]]).decode()
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[item["name"]] = maps[ref["name"]][ref["key"]]
    return env


def test_containers_run_the_manifest_s_command_env_and_security_context(chart: Any, podman: Podman) -> None:
    assert len(pods(chart.objects)) == 4
    for deployment, container, name in pods(chart.objects):
        info = podman.inspect(name)
        pod_sc = deployment["spec"]["template"]["spec"]["securityContext"]
        sc = {**pod_sc, **container["securityContext"]}
        # PID 1's own argv (podman's inspect reports Args oddly when the image's CMD is unused): the
        # console script's interpreter, the script found on PATH, then the arguments.
        argv = podman.exec(name, "cat", "/proc/1/cmdline").stdout.rstrip("\0").split("\0")
        assert [PurePosixPath(argv[1]).name, *argv[2:]] == [*container["command"], *container.get("args", [])]
        actual = dict(v.split("=", 1) for v in info["Config"]["Env"])
        wanted = expected_env(container, chart.objects, chart.secret)
        assert {k: actual.get(k) for k in wanted} == wanted, name
        assert info["Config"]["User"] == f"{sc['runAsUser']}:{sc['runAsGroup']}", name
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0
        assert info["HostConfig"]["ReadonlyRootfs"] is sc["readOnlyRootFilesystem"] is True, name
        assert sc["capabilities"]["drop"] == ["ALL"] and not info["EffectiveCaps"], name
        assert sc["allowPrivilegeEscalation"] is False
        assert "no-new-privileges" in info["HostConfig"]["SecurityOpt"], name
        mounts = {m["Destination"] for m in info["Mounts"]}
        assert {m["mountPath"] for m in container["volumeMounts"]} <= mounts, name


def test_pod_processes_are_confined(chart: Any, podman: Podman) -> None:
    for _, _, name in pods(chart.objects):
        seen = podman.confinement(name)
        assert (seen["uid"], seen["gid"]) == ("10001", "10001"), name
        assert "Read-only file system" in seen.get("root_write", "written!"), name
        assert seen.get("tmp_write") == "ok", name
        assert int(seen["CapEff"], 16) == int(seen["CapBnd"], 16) == 0, name
        assert seen["NoNewPrivs"] == "1", name
        assert seen["Seccomp"] == "2", f"{name}: no seccomp filter (RuntimeDefault)"


def test_every_probe_of_the_manifest_answers(chart: Any) -> None:
    urls = [url for _, container, _ in pods(chart.objects) for url in probe_urls(container)]
    assert len(urls) == 12  # three probes for each of the four containers
    for url in urls:
        curl(url)


def test_a_job_goes_through_the_chart_s_api_and_worker(chart: Any, secret_values: Any) -> None:
    base, token = f"http://127.0.0.1:{chart.ports.api}", secret_values.api_token
    job_id = f"chart-{uuid.uuid4().hex[:8]}"
    with JobStream(base, job_id, token) as stream:
        body = json.dumps({"type": "custom", "payload": {}, "options": {"jobId": job_id}})
        curl(f"{base}/schedule", "-H", "Content-Type: application/json", "-d", body, token=token, expect=201)
        stream.wait_for("completed", "failed")
    _, job = curl(f"{base}/jobs/{job_id}", token=token)
    assert job["worker"].startswith(f"{RELEASE}-jobs-worker-pod-0:"), job["worker"]


def test_no_secret_in_the_pods_logs(chart: Any, podman: Podman, secret_values: Any) -> None:
    logs = podman.logs([name for _, _, name in pods(chart.objects)])
    assert logs.count('"event": "service_ready"') == 4, logs[-2000:]
    for name, value in vars(secret_values).items():
        assert value not in logs, f"the {name} appears in a pod's log"


def test_pods_stop_on_sigterm_with_exit_code_0(chart: Any, podman: Podman, timings: Any) -> None:
    started = time.monotonic()
    for deployment, _, name in pods(chart.objects):
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        pod = f"{deployment['metadata']['name']}-pod-0"
        podman("pod", "stop", "--time", str(grace), pod, timeout=grace + 30)
        assert podman.inspect(name)["State"]["ExitCode"] == 0, name
    timings.record("chart: stop the pods", started)
