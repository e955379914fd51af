"""Every Kubernetes variant (k8s/overlays/*) renders (tests/kustomize.py), passes the strictest
validation kubernetes-validate gives (its strict schemas refuse unknown fields) for the oldest
and newest Kubernetes the README names, and holds what a cluster operator relies on: locked
down pods, images by revision, autoscaling and disruption budgets, network isolation that
follows who calls whom in the code, and a prod Ingress that exposes the services' public
routes (their ServiceSpec's) and nothing else of a subgraph."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
from starlette.routing import Route

from lms.services import available_services, spec
from tests.kustomize import Document, pod_spec, render
from tests.network_policy import Endpoint, connects

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ROOT / "k8s" / "overlays"
VARIANTS = sorted(p.name for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").exists())
KUBERNETES_VERSIONS = ["1.33.0", "1.37.0"]  # README "Deployment"
WORKLOADS = {"Deployment", "Job", "CronJob"}
DATA_STORE_PORTS = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672}


@cache
def _rendered(variant: str) -> tuple[Document, ...]:
    return tuple(render(OVERLAYS / variant))


def rendered(variant: str, kind: str | None = None) -> list[Document]:
    return [d for d in _rendered(variant) if kind is None or d["kind"] == kind]


def named(variant: str, kind: str, name: str) -> Document:
    [document] = [d for d in rendered(variant, kind) if d["metadata"]["name"] == name]
    return document


def workloads(variant: str) -> list[Document]:
    return [d for d in rendered(variant) if d["kind"] in WORKLOADS]


def image_user() -> tuple[int, int]:
    """The USER of the Dockerfile's final stage: numeric uid:gid."""
    [user] = re.findall(r"^USER (\S+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    uid, gid = user.split(":")
    return int(uid), int(gid)


def test_there_are_dev_and_prod_variants() -> None:
    assert VARIANTS == ["dev", "prod"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_validates_strictly(variant: str, version: str) -> None:
    for document in rendered(variant):
        kubernetes_validate.validate(document, version, strict=True)


def test_strict_validation_refuses_an_unknown_field() -> None:
    deployment = copy.deepcopy(named("prod", "Deployment", "router"))
    deployment["spec"]["template"]["spec"]["containers"][0]["imag"] = "lms"
    with pytest.raises(kubernetes_validate.ValidationError, match="'imag' was unexpected"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_workload_runs_locked_down(variant: str) -> None:
    uid, gid = image_user()
    assert uid != 0
    found = set()
    for workload in workloads(variant):
        found.add(workload["kind"])
        name = f"{workload['kind']} {workload['metadata']['name']}"
        spec = pod_spec(workload)
        assert spec is not None, name
        # bubblewrap needs unshare(CLONE_NEWUSER), which RuntimeDefault refuses: the grader
        # alone is Unconfined (its sandbox filters the learner's code itself)
        seccomp = "Unconfined" if workload["metadata"]["name"] == "grader" else "RuntimeDefault"
        assert spec["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": gid,
            "fsGroup": gid,
            "seccompProfile": {"type": seccomp},
        }, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            }, name
            writable = {
                m["mountPath"]: volumes[m["name"]]
                for m in container.get("volumeMounts", [])
                if not m.get("readOnly")
            }
            assert "/tmp" in writable, f"{name}: no writable /tmp"
            for path, volume in writable.items():
                assert "emptyDir" in volume or "persistentVolumeClaim" in volume, (name, path)
    assert found == WORKLOADS


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_services_write_only_where_a_volume_is_mounted(variant: str) -> None:
    """The folders the settings make the services write to are writable volumes."""
    [config] = [
        d["data"] for d in rendered(variant, "ConfigMap") if d["metadata"]["name"] == "lms-config"
    ]
    spec = pod_spec(named(variant, "Deployment", "courses"))
    assert spec is not None
    [container] = spec["containers"]
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert config["LMS_UPLOAD_DIR"] in writable
    backup = pod_spec(named(variant, "CronJob", "lms-backup"))
    assert backup is not None
    [container] = backup["containers"]
    destination = container["command"][container["command"].index("--to") + 1]
    assert destination in {m["mountPath"] for m in container["volumeMounts"]}


@pytest.mark.parametrize("variant", VARIANTS)
def test_images_are_referenced_by_git_revision(variant: str) -> None:
    for workload in workloads(variant):
        spec = pod_spec(workload)
        assert spec is not None
        for container in spec["containers"]:
            name, _, tag = container["image"].rpartition(":")
            assert name, container["image"]
            assert re.fullmatch(r"[0-9a-f]{7,40}", tag), container["image"]


def test_set_image_tag_points_every_variant_at_a_revision(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "k8s", tmp_path / "k8s")
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "set-image-tag.sh", tmp_path / "scripts")
    script = tmp_path / "scripts" / "set-image-tag.sh"
    subprocess.run(["bash", script, "0123456789ab"], check=True, capture_output=True)
    for variant in VARIANTS:
        for document in render(tmp_path / "k8s" / "overlays" / variant):
            spec = pod_spec(document) if document["kind"] in WORKLOADS else None
            for container in spec["containers"] if spec else []:
                assert container["image"].endswith(":0123456789ab")
    refused = subprocess.run(["bash", script, "latest"], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr == (
        "set-image-tag: 'latest' is not a git revision (7 to 40 hex digits)\n"
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_router_and_subgraphs_autoscale_spread_and_keep_a_budget(variant: str) -> None:
    for name in ["router", *available_services()]:
        deployment = named(variant, "Deployment", name)
        selector = deployment["spec"]["selector"]["matchLabels"]
        hpa = named(variant, "HorizontalPodAutoscaler", name)["spec"]
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert hpa["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["maxReplicas"]
        assert {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        } in hpa["metrics"]
        budget = named(variant, "PodDisruptionBudget", name)["spec"]
        assert budget == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
        spec = pod_spec(deployment)
        assert spec is not None
        assert {c["topologyKey"] for c in spec["topologySpreadConstraints"]} == {
            "topology.kubernetes.io/zone",
            "kubernetes.io/hostname",
        }
        assert all(
            c["labelSelector"]["matchLabels"] == selector for c in spec["topologySpreadConstraints"]
        )
    for workload in workloads(variant):
        spec = pod_spec(workload)
        assert spec is not None
        for container in spec["containers"]:
            resources = container["resources"]
            assert set(resources["requests"]) == {"cpu", "memory"}, workload["metadata"]["name"]
            assert set(resources["limits"]) >= {"memory"}, workload["metadata"]["name"]


def test_prod_scales_the_router_on_a_metric_the_adapter_serves() -> None:
    metrics = named("prod", "HorizontalPodAutoscaler", "router")["spec"]["metrics"]
    [pods] = [m["pods"] for m in metrics if m["type"] == "Pods"]
    adapter = named("prod", "ConfigMap", "prometheus-adapter-lms")["data"]["config.yaml"]
    assert f"as: {pods['metric']['name']}" in adapter
    assert "router_http_requests_total" in adapter  # a family the router exports (README)


def test_prod_serves_the_router_over_tls() -> None:
    ingress = named("prod", "Ingress", "lms")["spec"]
    [rule] = ingress["rules"]
    [tls] = ingress["tls"]
    assert rule["host"] in tls["hosts"]
    [path] = rule["http"]["paths"]
    assert path["backend"]["service"]["name"] == "router"


# Routes of the apps that only the cluster calls: the router trades API keys, the services
# their client credentials, at the users subgraph.
INTERNAL_ROUTES = {
    "users": {"/auth/api-key-token", "/oauth/token"},
    # fetched by courses for a cartridge's export (service URL, inside the cluster)
    "assessments": {"/qti/{course_id}/{version}/assessments.zip"},
}
# What every subgraph serves besides its public routes (create_service_app), never exposed.
PRIVATE_PATHS = ["/graphql", "/metrics", "/health", "/ready"]


def _public_routes() -> dict[str, list[Route]]:
    """Each subgraph's routes that clients outside the cluster follow (links the services build
    with settings.public_service_url): its ServiceSpec's routes but the internal ones."""
    public = {}
    for name in available_services():
        routes = [
            r
            for r in spec(name).routes
            if isinstance(r, Route) and r.path not in INTERNAL_ROUTES.get(name, set())
        ]
        if routes:
            public[name] = routes
    return public


def _sample(route: Route) -> str:
    """A path the route answers: each {parameter} filled in."""
    path = re.sub(r"\{\w+(?::\w+)?\}", "a1-b2", route.path)
    assert route.path_regex.fullmatch(path), route.path
    return path


def _exposed(path: str) -> tuple[str, str] | None:
    """The backend (service, port name) and the path it receives when a client asks prod's
    Ingress for `path`, as ingress-nginx does with use-regex and rewrite-target: the paths are
    case-insensitive regular expressions anchored at the start, and the target's $n are the
    path's groups. None: the router's catch-all `/` takes it."""
    ingress = named("prod", "Ingress", "lms-services")
    target = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]
    [rule] = ingress["spec"]["rules"]
    found = []
    for entry in rule["http"]["paths"]:
        match = re.match(entry["path"], path, re.IGNORECASE)
        if match:
            backend = entry["backend"]["service"]
            rewritten = match.expand(target.replace("$", "\\"))  # $1 -> \1
            found.append((backend["name"], backend["port"]["name"], rewritten))
    assert len(found) <= 1, (path, found)
    if not found:
        return None
    name, port, rewritten = found[0]
    assert port == "http", path
    return name, rewritten


def test_prod_exposes_exactly_the_services_public_routes() -> None:
    ingress = named("prod", "Ingress", "lms-services")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"
    assert ingress["spec"]["tls"] == named("prod", "Ingress", "lms")["spec"]["tls"]
    [rule] = ingress["spec"]["rules"]
    [router_rule] = named("prod", "Ingress", "lms")["spec"]["rules"]
    assert rule["host"] == router_rule["host"]
    [config] = [
        d["data"] for d in rendered("prod", "ConfigMap") if d["metadata"]["name"] == "lms-config"
    ]
    # the links the services build (settings.public_service_url) lead to this Ingress
    assert config["LMS_PUBLIC_URL"] == f"https://{rule['host']}"
    public = _public_routes()
    assert {p["backend"]["service"]["name"] for p in rule["http"]["paths"]} == set(public)
    for service, routes in public.items():
        for route in routes:
            path = _sample(route)
            assert _exposed(f"/{service}{path}") == (service, path), (service, route.path)
            assert _exposed(f"/{service.upper()}{path}") == (service, path)
            # whatever else a client asks for reaches a public route of that service or none
            for other in public:
                for asked in [f"/{other}{path}", f"/{other}{path}/graphql", f"/{other}{path}x/"]:
                    exposed = _exposed(asked)
                    assert exposed is None or any(
                        r.path_regex.fullmatch(exposed[1]) for r in public[exposed[0]]
                    ), (asked, exposed)
            assert _exposed(f"/x/{service}{path}") is None, path
    for service in available_services():
        hidden = [*PRIVATE_PATHS, *INTERNAL_ROUTES.get(service, set())]
        for path in [*hidden, *(f"{p}/" for p in hidden), *(p.upper() for p in hidden)]:
            assert _exposed(f"/{service}{path}") is None, (service, path)
        assert _exposed(f"/{service}") is None
        assert _exposed(f"/{service}/") is None
    assert _exposed("/graphql") is None  # the router's


def _calls_in_code() -> dict[str, set[str]]:
    """The subgraphs each subgraph calls (settings.service_url in its package)."""
    calls = {}
    for name in available_services():
        sources = "".join(p.read_text() for p in (ROOT / "subgraphs" / name).rglob("*.py"))
        calls[name] = set(re.findall(r"(?<!_)service_url\(\"(\w+)\"\)", sources)) - {name}
    return calls


def _pod(variant: str, app: str) -> Endpoint:
    for document in rendered(variant):
        spec = pod_spec(document) if document["kind"] in WORKLOADS else None
        template = document.get("spec", {}).get("template", {})
        if document["kind"] == "CronJob":
            template = document["spec"]["jobTemplate"]["spec"]["template"]
        if spec is not None and template["metadata"]["labels"]["app"] == app:
            labels = template["metadata"]["labels"]
            return Endpoint("10.1.0.9", document["metadata"]["namespace"], labels)
    raise LookupError(app)


def _port(variant: str, app: str) -> int:
    [port] = named(variant, "Service", app)["spec"]["ports"]
    return int(port["port"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_network_policies_follow_who_calls_whom(variant: str) -> None:
    policies = rendered(variant, "NetworkPolicy")
    assert any(
        p["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} for p in policies
    )
    services = available_services()
    calls = _calls_in_code()
    apps = ["router", *services, *(f"{s}-worker" for s in services), "lms-migrate", "lms-backup"]
    # a client: outside the cluster in dev, the ingress controller's pod in prod (which also
    # reaches the subgraphs that serve public routes, the Ingress passing only those)
    client = (
        Endpoint("10.5.0.7", "ingress-nginx", {"app": "ingress-nginx"})
        if variant == "prod"
        else Endpoint("203.0.113.7")
    )
    stranger = Endpoint("10.9.0.3", "other", {"app": "other"})
    assert connects(policies, client, _pod(variant, "router"), 4000)
    if variant == "prod":  # only through the ingress controller
        assert not connects(policies, stranger, _pod(variant, "router"), 4000)
    public = set(_public_routes()) if variant == "prod" else set()  # prod's lms-services
    for subgraph in services:
        destination, port = _pod(variant, subgraph), _port(variant, subgraph)
        reached = connects(policies, client, destination, port)
        assert reached == (subgraph in public), subgraph
        assert not connects(policies, stranger, destination, port), subgraph
        for app in apps:
            owner = app.removesuffix("-worker")
            expected = (
                app == "router"
                or app == f"{subgraph}-worker"
                or subgraph in calls.get(owner, set())
                or (subgraph == "users" and app not in ("lms-migrate", "lms-backup"))  # JWKS
            )
            allowed = connects(policies, _pod(variant, app), destination, port)
            assert allowed == expected, f"{app} -> {subgraph}: {allowed}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_pod_reaches_only_the_data_stores_it_uses(variant: str) -> None:
    policies = rendered(variant, "NetworkPolicy")
    store = Endpoint("10.20.0.5")  # prod's external data stores' network
    elsewhere = Endpoint("198.51.100.4")
    services = available_services()
    for app in ["router", *services, *(f"{s}-worker" for s in services), "lms-migrate"]:
        pod = _pod(variant, app)
        uses = (
            {"redis"}
            if app == "router"
            else {"postgres"}
            if app == "lms-migrate"
            else set(DATA_STORE_PORTS)
        )
        for name, port in DATA_STORE_PORTS.items():
            assert connects(policies, pod, store, port) == (name in uses), (app, name)
        assert not connects(policies, pod, elsewhere, 22), app
        if variant == "prod":
            assert not connects(policies, pod, elsewhere, 5432), app
    dns = Endpoint("10.96.0.10", "kube-system", {"k8s-app": "kube-dns"})
    assert connects(policies, _pod(variant, "router"), dns, 53)
