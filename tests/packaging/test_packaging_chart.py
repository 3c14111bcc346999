"""The Helm chart charts/jobs, checked offline: lint, render, schema validation of every object, and the
contract with the services (commands, ports, probe paths, JOBS_* variables, secrets)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

COMMANDS = {
    "api": "jobs-api",
    "worker": "jobs-worker",
    "scheduler": "jobs-scheduler",
    "dashboard": "jobs-dashboard",
}
CRD_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
}


def deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        out[key] = (
            deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def service_deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for obj in objects:
        if obj["kind"] == "Deployment":
            out[obj["metadata"]["labels"]["app.kubernetes.io/component"]] = obj
    return out


# -- lint and validation of every object ------------------------------------------------------------


def test_lint_strict(pkg, value_set):
    import helm_python as helm

    result = helm.lint(
        str(pkg.CHART),
        pkg.VALUE_SETS[value_set],
        strict=True,
        with_subcharts=True,
        kube_version=f"v{pkg.KUBE_VERSION}",
    )
    problems = [m for m in result["messages"] if m["severity"] >= 2] + list(result.get("errors") or [])
    assert not problems, problems


def test_every_object_is_valid_kubernetes(pkg, value_set):
    import kubernetes_validate as kv

    objects = pkg.render(pkg.VALUE_SETS[value_set])
    assert objects
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']} ({obj['__source']})"
        key = (obj["apiVersion"], obj["kind"])
        if key in CRD_KINDS:
            continue  # test_custom_resources_match_their_crds
        if key == ("monitoring.coreos.com/v1", "PrometheusRule"):
            check_prometheus_rule(obj)
            continue
        try:
            kv.validate(pkg.strip(obj), pkg.KUBE_VERSION, strict=True)
        except kv.ValidationError as err:
            pytest.fail(f"{name}: {'.'.join(map(str, err.path))}: {err.message}")
        except kv.SchemaNotFoundError:  # an unknown or removed API is an error, not a warning
            pytest.fail(f"{name}: {obj['apiVersion']} {obj['kind']} is not in Kubernetes {pkg.KUBE_VERSION}")


def test_custom_resources_match_their_crds(pkg, value_set, crd_validator):
    objects = pkg.render(pkg.VALUE_SETS[value_set])
    custom = [o for o in objects if (o["apiVersion"], o["kind"]) in CRD_KINDS]
    for obj in custom:
        assert crd_validator(obj) == [], f"{obj['kind']}/{obj['metadata']['name']}"
    # No other custom resource slips in without a schema check.
    operator_kinds = {
        (o["apiVersion"], o["kind"])
        for o in objects
        if o["apiVersion"].startswith(("keda.sh/", "monitoring.coreos.com/"))
    }
    assert operator_kinds <= CRD_KINDS | {("monitoring.coreos.com/v1", "PrometheusRule")}


def check_prometheus_rule(obj: dict[str, Any]) -> None:
    """No CRD schema is at hand for PrometheusRule: check its shape by hand."""
    assert set(obj) - {"__source"} == {"apiVersion", "kind", "metadata", "spec"}
    assert set(obj["spec"]) == {"groups"}
    for group in obj["spec"]["groups"]:
        assert set(group) <= {"name", "interval", "rules"} and group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "record", "expr", "for", "labels", "annotations", "keep_firing_for"}
            assert ("alert" in rule) != ("record" in rule), rule
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert re.fullmatch(r"\d+[smhd]", rule.get("for", "0s")), rule
            assert all(
                isinstance(v, str) for v in {**rule.get("labels", {}), **rule.get("annotations", {})}.values()
            )
            assert rule["expr"].count("(") == rule["expr"].count(")"), rule["expr"]


# -- the service contract ---------------------------------------------------------------------------


def test_one_deployment_per_service_with_its_command(pkg, value_set):
    deployments = service_deployments(pkg.render(pkg.VALUE_SETS[value_set]))
    dashboard_on = pkg.VALUE_SETS[value_set].get("dashboard", {}).get("enabled", True)
    assert set(deployments) == set(COMMANDS) - (set() if dashboard_on else {"dashboard"})
    for component, dep in deployments.items():
        (container,) = pod_spec(dep)["containers"]
        assert container["command"] == [COMMANDS[component]]


def test_probe_paths_and_ports_follow_the_contract(pkg, value_set):
    objects = pkg.render(pkg.VALUE_SETS[value_set])
    deployments = service_deployments(objects)
    expected = {
        "api": ("http", "JOBS_PORT", 3105),
        "dashboard": ("http", "JOBS_DASHBOARD_PORT", 4200),
        "worker": ("probes", "JOBS_PROBE_PORT", 8081),
        "scheduler": ("probes", "JOBS_PROBE_PORT", 8082),
    }
    for component, (port_name, var, number) in expected.items():
        if component not in deployments:  # dashboard.enabled false
            continue
        (container,) = pod_spec(deployments[component])["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {port_name: number}, component
        assert env_of(container)[var]["value"] == str(number), component
        for probe, path in (
            ("startupProbe", "/livez"),
            ("livenessProbe", "/livez"),
            ("readinessProbe", "/readyz"),
        ):
            assert container[probe]["httpGet"] == {"path": path, "port": port_name}, (component, probe)
    services = {
        s["metadata"]["labels"]["app.kubernetes.io/component"]: s for s in pkg.find(objects, "Service")
    }
    assert {p["name"]: p["port"] for p in services["api"]["spec"]["ports"]} == {"http": 3105}
    if "dashboard" in deployments:
        assert {p["name"]: p["port"] for p in services["dashboard"]["spec"]["ports"]} == {"http": 4200}
    else:
        assert "dashboard" not in services
    assert "worker" not in services and "scheduler" not in services


def resolved_env_names(objects: list[dict[str, Any]], container: dict[str, Any]) -> set[str]:
    """env names plus the keys of every ConfigMap pulled in with envFrom."""
    names = set(env_of(container))
    configmaps = {c["metadata"]["name"]: c for c in objects if c["kind"] == "ConfigMap"}
    for source in container.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        assert ref in configmaps, f"envFrom names ConfigMap {ref}, which the chart does not create"
        names |= set(configmaps[ref]["data"])
    return names


def test_every_jobs_variable_exists_in_the_settings_class(pkg, value_set):
    objects = pkg.render(pkg.VALUE_SETS[value_set])
    for component, dep in service_deployments(objects).items():
        (container,) = pod_spec(dep)["containers"]
        jobs_vars = {n for n in resolved_env_names(objects, container) if n.startswith("JOBS_")}
        unknown = jobs_vars - pkg.settings_vars(component)
        assert not unknown, f"{component} gets variables its settings class does not read: {sorted(unknown)}"


def test_secrets_only_through_secret_key_refs(pkg, value_set):
    values = pkg.VALUE_SETS[value_set]
    objects = pkg.render(values)
    for obj in objects:
        if obj["kind"] not in {"Deployment", "StatefulSet", "Pod"}:
            continue
        for container in pod_spec(obj)["containers"]:
            for name, entry in env_of(container).items():
                if name in pkg.SECRET_VARS or re.search(r"PASSWORD|TOKEN(?!_TTL)|SECRET|AUTH$", name):
                    assert "value" not in entry, f"{name} is a plain value in {obj['metadata']['name']}"
                    assert "secretKeyRef" in entry["valueFrom"], name
    for configmap in pkg.find(objects, "ConfigMap"):
        assert not set(configmap.get("data", {})) & pkg.SECRET_VARS, configmap["metadata"]["name"]
    # A secret given in the values shows up in the Secret's data only.
    given = [v for k, v in values.get("auth", {}).items() if k != "existingSecret"]
    given += [values.get("externalRedis", {}).get("url", "")]
    outside = "\n".join(
        text for path, text in pkg.render_files(values).items() if not path.endswith("/secret.yaml")
    )
    for secret in filter(None, given):
        assert secret not in outside


def test_service_pods_are_locked_down(pkg, value_set):
    objects = pkg.render(pkg.VALUE_SETS[value_set])
    workloads = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet", "Pod"}]
    assert len(workloads) >= 4  # api, worker, scheduler, redis at least
    for obj in workloads:
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"]
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert container["resources"].get("requests"), obj["metadata"]["name"]


def test_config_and_secret_checksums_roll_the_pods(pkg):
    base = service_deployments(pkg.render({}))
    changed = service_deployments(pkg.render({"config": {"logLevel": "debug"}, "auth": {"apiToken": "t0k"}}))
    for component in COMMANDS:
        before = base[component]["spec"]["template"]["metadata"]["annotations"]
        after = changed[component]["spec"]["template"]["metadata"]["annotations"]
        assert before["checksum/config"] != after["checksum/config"]
        assert before["checksum/secret"] != after["checksum/secret"]
    # Stable between two renders of the same values, even with generated passwords.
    again = service_deployments(pkg.render({"config": {"logLevel": "info"}}))
    assert (
        again["api"]["spec"]["template"]["metadata"]["annotations"]
        == base["api"]["spec"]["template"]["metadata"]["annotations"]
    )


def test_worker_termination_grace_follows_shutdown_grace(pkg):
    for grace in (25, 50):
        dep = service_deployments(pkg.render({"worker": {"shutdownGrace": grace}}))["worker"]
        spec = pod_spec(dep)
        assert spec["terminationGracePeriodSeconds"] == grace + 10
        assert env_of(spec["containers"][0])["JOBS_SHUTDOWN_GRACE"]["value"] == str(grace)


def test_spread_and_disruption_budgets(pkg):
    objects = pkg.render({})
    deployments = service_deployments(objects)
    for dep in deployments.values():
        (constraint,) = pod_spec(dep)["topologySpreadConstraints"]
        assert constraint["labelSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    pdbs = {
        p["metadata"]["labels"]["app.kubernetes.io/component"]: p
        for p in pkg.find(objects, "PodDisruptionBudget")
    }
    # The dashboard runs one replica by default: a PDB would block node drains.
    assert set(pdbs) == {"api", "worker", "scheduler"}
    for component, pdb in pdbs.items():
        assert (
            pdb["spec"]["selector"]["matchLabels"]
            == deployments[component]["spec"]["selector"]["matchLabels"]
        )


# -- Redis ------------------------------------------------------------------------------------------


def test_bundled_redis_is_durable_and_protected(pkg):
    objects = pkg.render({})
    sts = pkg.one(objects, "StatefulSet", "redis")
    (container,) = pod_spec(sts)["containers"]
    args = " ".join(container["args"])
    for flag in (
        "--appendonly yes",
        "--appendfsync everysec",
        "--maxmemory-policy noeviction",
        "--requirepass $(REDIS_PASSWORD)",
    ):
        assert flag in args
    assert env_of(container)["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "redis-password"
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    secret = pkg.one(objects, "Secret")
    assert set(secret["data"]) == {"redis-password", "dashboard-password"}
    config = pkg.one(objects, "ConfigMap")["data"]
    redis_service = [s for s in pkg.find(objects, "Service", "redis") if s["spec"].get("clusterIP") != "None"]
    assert config["JOBS_REDIS_HOST"] == redis_service[0]["metadata"]["name"]
    assert config["JOBS_REDIS_PORT"] == "6379"


def test_external_redis_url_comes_from_the_secret(pkg):
    objects = pkg.render(pkg.VALUE_SETS["external-redis-url"])
    assert not pkg.find(objects, "StatefulSet")
    assert "JOBS_REDIS_HOST" not in pkg.one(objects, "ConfigMap")["data"]
    secret = pkg.one(objects, "Secret")
    assert "redis-url" in secret["data"] and "redis-password" not in secret["data"]
    for dep in service_deployments(objects).values():
        env = env_of(pod_spec(dep)["containers"][0])
        assert env["JOBS_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": secret["metadata"]["name"],
            "key": "redis-url",
        }
        assert "JOBS_REDIS_PASSWORD" not in env


def test_existing_secret_is_used_and_none_created(pkg):
    objects = pkg.render(pkg.VALUE_SETS["external-redis-existing-secret"])
    assert not pkg.find(objects, "Secret")
    assert pkg.one(objects, "ConfigMap")["data"]["JOBS_REDIS_PORT"] == "6380"
    deployments = service_deployments(objects)
    api_env = env_of(pod_spec(deployments["api"])["containers"][0])
    assert api_env["JOBS_REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "my-jobs-secrets",
        "key": "redis-password",
        "optional": True,
    }
    assert api_env["JOBS_API_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"] is True
    dash_env = env_of(pod_spec(deployments["dashboard"])["containers"][0])
    assert dash_env["JOBS_DASHBOARD_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "my-jobs-secrets",
        "key": "dashboard-password",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"redis": {"enabled": False}}, "needs externalRedis.url or externalRedis.host"),
        ({"externalRedis": {"host": "r"}}, "redis.enabled=true and externalRedis.url/host are both set"),
        ({"api": {"env": {"JOBS_API_TOKEN": "x"}}}, "JOBS_API_TOKEN is a secret"),
        ({"config": {"extra": {"JOBS_REDIS_PASSWORD": "x"}}}, "JOBS_REDIS_PASSWORD is a secret"),
        (
            {"worker": {"autoscaling": {"hpa": {"enabled": True}, "keda": {"enabled": True}}}},
            "enable only one",
        ),
        (
            {"worker": {"autoscaling": {"hpa": {"enabled": True}, "minReplicas": 0}}},
            "scale to zero needs KEDA",
        ),
        ({"worker": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}, "greater than maxReplicas"),
        ({"ingress": {"enabled": True, "tls": {"enabled": True}}}, "ingress.tls.secretName is needed"),
    ],
    ids=[
        "no-redis",
        "both-redis",
        "token-as-env",
        "password-as-extra",
        "hpa-and-keda",
        "hpa-zero",
        "min-gt-max",
        "tls-without-secret",
    ],
)
def test_inconsistent_values_fail_the_render_clearly(pkg, values, message):
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError, match=re.escape(message)):
        pkg.render(values)


# -- schema -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"worker": {"replicas": "two"}}, "at '/worker/replicas': got string, want integer"),
        ({"worker": {"replica": 2}}, "additional properties 'replica' not allowed"),
        ({"surprise": True}, "additional properties 'surprise' not allowed"),
        ({"api": {"port": 70000}}, "/api/port"),
        ({"config": {"logLevel": "loud"}}, "/config/logLevel"),
        ({"config": {"queues": ["bad queue"]}}, "/config/queues/0"),
        ({"worker": {"env": {"PATH": "/x"}}}, "at '/worker/env': additional properties 'PATH' not allowed"),
        ({"externalRedis": {"url": "http://redis"}}, "/externalRedis/url"),
        (
            {"worker": {"autoscaling": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 7200}}}}},
            "stabilizationWindowSeconds",
        ),
        ({"api": {"corsOrigins": ["*"]}}, "/api/corsOrigins/0"),
        ({"api": {"corsOrigins": ["https://chat.example.com/app"]}}, "/api/corsOrigins/0"),
        ({"api": {"jobTokenTtl": 0}}, "/api/jobTokenTtl"),
        ({"auth": {"jobTokenSecret": "short"}}, "/auth/jobTokenSecret"),
    ],
    ids=[
        "replicas-string",
        "unknown-key",
        "unknown-top-key",
        "port-range",
        "log-level",
        "queue-name",
        "env-name",
        "redis-url-scheme",
        "window-too-long",
        "cors-wildcard",
        "cors-path",
        "token-ttl-zero",
        "token-secret-short",
    ],
)
def test_schema_rejects_bad_values_with_a_clear_message(pkg, values, message):
    import helm_python as helm

    with helm.Chart.load(str(pkg.CHART)) as chart, pytest.raises(helm.HelmValuesError) as caught:
        chart.validate_schema(values)
    assert message in str(caught.value)


def test_schema_describes_every_default_value(pkg):
    """Every key of values.yaml is declared in values.schema.json (so that none slips by untyped)."""
    import yaml

    schema = json.loads((pkg.CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((pkg.CHART / "values.yaml").read_text())

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
        return node

    def walk(value: Any, node: dict[str, Any], where: str) -> None:
        node = resolve(node)
        if isinstance(value, dict) and "properties" in node:
            assert node.get("additionalProperties") is False, f"{where} accepts unknown keys"
            for key, sub in value.items():
                assert key in node["properties"], f"{where}.{key} is not in values.schema.json"
                walk(sub, node["properties"][key], f"{where}.{key}")

    walk(defaults, schema, "values")


# -- autoscaling ------------------------------------------------------------------------------------


def test_worker_has_replicas_only_without_an_autoscaler(pkg):
    plain = service_deployments(pkg.render({}))["worker"]
    assert plain["spec"]["replicas"] == 2
    assert not pkg.find(pkg.render({}), "HorizontalPodAutoscaler")
    for value_set in ("keda", "everything"):
        worker = service_deployments(pkg.render(pkg.VALUE_SETS[value_set]))["worker"]
        assert "replicas" not in worker["spec"], value_set


def test_hpa_targets_the_worker_deployment(pkg):
    objects = pkg.render(pkg.VALUE_SETS["everything"])
    hpa = pkg.one(objects, "HorizontalPodAutoscaler")
    worker = service_deployments(objects)["worker"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": worker["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    scale_down = hpa["spec"]["behavior"]["scaleDown"]
    assert scale_down["stabilizationWindowSeconds"] >= 60
    assert scale_down["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 60}]
    assert not pkg.find(objects, "ScaledObject")


def test_keda_scales_the_worker_on_the_waiting_jobs_metric(pkg):
    objects = pkg.render(pkg.VALUE_SETS["keda"])
    scaled = pkg.one(objects, "ScaledObject")
    worker = service_deployments(objects)["worker"]
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": worker["metadata"]["name"],
    }
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (0, 30)
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    query = trigger["metadata"]["query"]
    assert "jobs_waiting{" in query and 'queue=~"default|high-priority|low-priority|scheduled"' in query
    assert f'namespace="{pkg.NAMESPACE}"' in query
    assert "unless on (queue) (max by (queue) (jobs_paused{" in query  # paused queues scale nothing
    behavior = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert not pkg.find(objects, "HorizontalPodAutoscaler")
    # Only the served queues count.
    narrow = pkg.render(deep_merge(pkg.VALUE_SETS["keda"], {"worker": {"queues": ["high-priority"]}}))
    assert (
        'queue=~"high-priority"'
        in pkg.one(narrow, "ScaledObject")["spec"]["triggers"][0]["metadata"]["query"]
    )


# -- exposure, network, monitoring ------------------------------------------------------------------


def test_ingress_uses_spec_hosts(pkg):
    objects = pkg.render(pkg.VALUE_SETS["everything"])
    ingress = pkg.one(objects, "Ingress")
    rules = {r["host"]: r["http"]["paths"][0]["backend"]["service"] for r in ingress["spec"]["rules"]}
    services = {
        s["metadata"]["labels"]["app.kubernetes.io/component"]: s["metadata"]["name"]
        for s in pkg.find(objects, "Service")
    }
    assert rules == {
        "jobs.chat.example.org": {"name": services["api"], "port": {"name": "http"}},
        "queues.chat.example.org": {"name": services["dashboard"], "port": {"name": "http"}},
    }
    assert ingress["spec"]["tls"][0]["secretName"] == "jobs-tls"
    assert not pkg.find(pkg.render({}), "Ingress")


def test_network_policies_expose_only_api_and_dashboard(pkg):
    objects = pkg.render(pkg.VALUE_SETS["everything"])
    policies = {
        p["metadata"]["labels"]["app.kubernetes.io/component"]: p["spec"]
        for p in pkg.find(objects, "NetworkPolicy")
    }
    assert set(policies) == {"api", "dashboard", "worker", "scheduler", "redis"}
    own = {
        "podSelector": {
            "matchLabels": {"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": pkg.RELEASE}
        }
    }
    (redis_rule,) = policies["redis"]["ingress"]
    assert redis_rule["from"] == [own] and redis_rule["ports"] == [{"port": "redis", "protocol": "TCP"}]
    for component in ("worker", "scheduler"):
        (rule,) = policies[component]["ingress"]
        assert rule["ports"] == [{"port": "probes", "protocol": "TCP"}]
        assert rule["from"] and own not in rule["from"]  # only the scrapers
    (dash_rule,) = policies["dashboard"]["ingress"]
    assert "from" not in dash_rule  # dashboardFrom empty: reachable from anywhere, on its port only
    (api_rule,) = policies["api"]["ingress"]
    assert {"namespaceSelector": {}} in api_rule["from"] and own in api_rule["from"]
    assert all(p["policyTypes"] == ["Ingress"] for p in policies.values())
    # With nobody allowed to scrape, workers accept no traffic at all.
    closed = pkg.render({"networkPolicy": {"enabled": True, "scrapeFrom": []}})
    worker_policy = pkg.one(closed, "NetworkPolicy", "worker")
    assert worker_policy["spec"]["ingress"] == []


def test_monitors_scrape_the_contract_ports(pkg):
    objects = pkg.render(pkg.VALUE_SETS["everything"])
    monitor = pkg.one(objects, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    api_service = pkg.one(objects, "Service", "api")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= api_service["metadata"]["labels"].items()
    pod_monitor = pkg.one(objects, "PodMonitor")
    assert {"port": "probes", "path": "/metrics"}.items() <= pod_monitor["spec"]["podMetricsEndpoints"][
        0
    ].items()
    assert pod_monitor["spec"]["selector"]["matchExpressions"][0]["values"] == ["worker", "scheduler"]


def test_prometheus_rule_alerts(pkg):
    rule = pkg.one(pkg.render(pkg.VALUE_SETS["everything"]), "PrometheusRule")
    check_prometheus_rule(rule)
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert set(alerts) == {
        "JobsBacklogGrowing",
        "JobsFailureRatioHigh",
        "JobsNoLiveWorker",
        "JobsNoSchedulerLeader",
    }
    assert "deriv(jobs_waiting{" in alerts["JobsBacklogGrowing"]["expr"]
    assert "> 100" in alerts["JobsBacklogGrowing"]["expr"]
    assert "jobs_failed_total" in alerts["JobsFailureRatioHigh"]["expr"]
    assert "jobs_completed_total" in alerts["JobsFailureRatioHigh"]["expr"]
    assert (
        "jobs_workers_live{" in alerts["JobsNoLiveWorker"]["expr"]
        and "== 0" in alerts["JobsNoLiveWorker"]["expr"]
    )
    assert "jobs_scheduler_leader{" in alerts["JobsNoSchedulerLeader"]["expr"]
    for alert in alerts.values():
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert "{{ $labels" in alert["annotations"]["summary"] or "leader" in alert["annotations"]["summary"]


def test_grafana_dashboard_configmap(pkg):
    objects = pkg.render(pkg.VALUE_SETS["everything"])
    (configmap,) = [
        c for c in pkg.find(objects, "ConfigMap") if c["metadata"]["name"].endswith("-grafana-dashboard")
    ]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = configmap["data"].values()
    assert json.loads(text) == json.loads((pkg.CHART / "files" / "grafana-dashboard.json").read_text())


def test_chart_dashboard_is_a_copy_of_the_monitoring_one(pkg):
    """The chart ships files/grafana-dashboard.json, a copy of monitoring/grafana-dashboard.json."""
    source = pkg.REPO / "monitoring" / "grafana-dashboard.json"
    copy = pkg.CHART / "files" / "grafana-dashboard.json"
    assert json.loads(copy.read_text())["panels"], "the chart's dashboard has no panel"
    if source.is_file():
        assert json.loads(copy.read_text()) == json.loads(source.read_text()), (
            "charts/jobs/files/grafana-dashboard.json is stale: "
            "cp monitoring/grafana-dashboard.json charts/jobs/files/grafana-dashboard.json"
        )


def test_notes_tell_how_to_reach_the_services(pkg):
    notes = next(t for p, t in pkg.render_files({}).items() if p.endswith("NOTES.txt"))
    assert "port-forward svc/demo-jobs-api 3105:3105" in notes
    assert "dashboard-password" in notes and "helm test demo" in notes
    with_ingress = next(
        t for p, t in pkg.render_files(pkg.VALUE_SETS["everything"]).items() if p.endswith("NOTES.txt")
    )
    assert "https://jobs.chat.example.org/health" in with_ingress


# -- helm test --------------------------------------------------------------------------------------


def test_helm_test_pod_is_a_hook(pkg):
    pod = pkg.one(pkg.render({}), "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "-c"]
    env = env_of(container)
    api = pkg.one(pkg.render({}), "Service", "api")["metadata"]["name"]
    assert env["API_URL"]["value"] == f"http://{api}:3105"
    assert pod["spec"]["restartPolicy"] == "Never"


class FakeApi(BaseHTTPRequestHandler):
    """Just enough of the api for the helm test script: POST /schedule, GET /jobs/<id>."""

    final_status = "failed"
    polls_before_final = 0  # the timeout case exercises the polling loop
    seen: ClassVar[list[tuple[str, str, Any]]] = []

    def _reply(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(("POST", self.path, body))
        self._reply({"jobId": "job-1", "queueName": body["options"]["queue"], "status": "waiting"}, 201)

    def do_GET(self) -> None:
        type(self).seen.append(("GET", self.path, self.headers.get("Authorization")))
        polls = sum(1 for s in type(self).seen if s[0] == "GET")
        status = type(self).final_status if polls > type(self).polls_before_final else "waiting"
        self._reply({"jobId": "job-1", "status": status})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("final", "timeout", "exit_code"), [("failed", 20, 0), ("completed", 20, 0), ("waiting", 1, 1)]
)
def test_helm_test_script_against_a_fake_api(pkg, final, timeout, exit_code):
    """Run the hook's script itself: terminal states pass, a job nobody takes fails on timeout."""
    pod = pkg.one(pkg.render({"auth": {"apiToken": "tok"}}), "Pod")
    (container,) = pod["spec"]["containers"]
    script = container["args"][0]
    FakeApi.final_status, FakeApi.seen = final, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "API_URL": f"http://127.0.0.1:{server.server_port}",
            "TEST_QUEUE": env_of(container)["TEST_QUEUE"]["value"],
            "TEST_TIMEOUT": str(timeout),
            "API_TOKEN": "tok",
        }
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False
        )
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == exit_code, run.stdout + run.stderr
    method, path, body = FakeApi.seen[0]
    assert (method, path) == ("POST", "/schedule")
    assert body == {
        "type": "helm-test",
        "payload": {},
        "options": {"queue": "default", "retry": {"attempts": 1}},
    }
    assert ("GET", "/jobs/job-1", "Bearer tok") in FakeApi.seen
    if exit_code:
        assert "timeout" in run.stderr


def test_crd_validation_catches_mistakes(pkg, crd_validator):
    """The CRD check is not vacuous: a typo and a wrong type in a rendered ScaledObject are reported."""
    scaled = pkg.one(pkg.render(pkg.VALUE_SETS["keda"]), "ScaledObject")
    broken = json.loads(json.dumps(pkg.strip(scaled)))
    broken["spec"]["minReplicaCount"] = "none"
    broken["spec"]["triggers"][0]["metdata"] = broken["spec"]["triggers"][0].pop("metadata")
    errors = "\n".join(crd_validator(broken))
    assert "spec.minReplicaCount: 'none' is not of type 'integer'" in errors
    assert "'metdata' was unexpected" in errors


def test_every_value_is_documented(pkg):
    """docs/deploy.md's values table names every value (per-service keys may use `<service>.key`)."""
    import yaml

    doc = (pkg.REPO / "docs" / "deploy.md").read_text()
    schema = json.loads((pkg.CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((pkg.CHART / "values.yaml").read_text())
    services = {"api", "worker", "scheduler", "dashboard"}
    # Objects documented as one row (their inner keys are Kubernetes' or listed in the row).
    whole = {"resources", "probes", "pdb", "behavior", "builtins"}

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
        return node

    def leaves(value: Any, node: dict[str, Any], path: str) -> list[str]:
        node = resolve(node)
        closed = node.get("additionalProperties") is False and "properties" in node
        if isinstance(value, dict) and closed and path.rsplit(".", 1)[-1] not in whole:
            return [
                leaf
                for key, sub in value.items()
                for leaf in leaves(sub, node["properties"][key], f"{path}.{key}" if path else key)
            ]
        return [path]

    missing = []
    for path in leaves(defaults, schema, ""):
        head, _, rest = path.partition(".")
        generic = f"`<service>.{rest}`" if head in services else None
        if f"`{path}`" not in doc and (generic is None or generic not in doc):
            missing.append(path)
    assert not missing, f"values missing from docs/deploy.md: {missing}"
