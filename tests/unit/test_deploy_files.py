"""docker-compose.yml and k8s/ stay in step with the code: files exist, commands parse, the
router's configuration is the checked-in router.yaml and is valid where it is deployed."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from lms.cli import parser as lms_parser
from lms.router_command import PLATFORM
from lms.services import available_services
from router.cli import _parser as router_parser
from router.config import load_config
from tests.kustomize import container_environment, pod_spec

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s" / "base"


def k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((K8S / resource).read_text()) if d]
    return documents


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """A compose service's bind mounts: the path inside the container -> the file here."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = ROOT / source
    return found


def _containers() -> list[tuple[list[str], dict[str, str]]]:
    """Every deployed `lms` container: its command and the variables it is given."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found = [
        (service["command"], service.get("environment", {}))
        for service in compose["services"].values()
        if isinstance(service.get("command"), list) and service["command"][0] == "lms"
    ]
    documents = k8s_documents()
    for document in documents:
        spec = pod_spec(document) if document["kind"] in ("Deployment", "Job", "CronJob") else None
        for container in spec["containers"] if spec else []:
            if "command" in container:
                found.append((container["command"], container_environment(documents, container)))
    return found


@pytest.mark.parametrize(
    ("command", "environment"), _containers(), ids=[" ".join(c) for c, _ in _containers()]
)
def test_every_deployed_command_parses(
    command: list[str], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert command[0] == "lms"
    if command[1] == "router":
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        args = router_parser(PLATFORM).parse_args(command[2:])  # as `lms router` parses
        supergraph = str(args.supergraph).removeprefix("/app/")
        assert (ROOT / supergraph).exists()
        assert args.config == Path("/etc/router/router.yaml")
        assert args.revocations_redis == environment["LMS_REDIS_URL"]
    else:
        args = lms_parser().parse_args(command[1:])
        if args.command == "serve":
            assert args.service in available_services()


@pytest.mark.parametrize(
    ("command", "environment"), _containers(), ids=[" ".join(c) for c, _ in _containers()]
)
def test_services_are_configured_by_variables_not_arguments(
    command: list[str], environment: dict[str, str]
) -> None:
    """A long-running service's arguments are the command alone: every setting comes from
    the environment (k8s: ConfigMaps; the router's file too)."""
    if command[1] in ("serve", "worker", "router"):
        assert [word for word in command if word.startswith("-")] == []


def test_every_service_is_deployed() -> None:
    deployed = {d["metadata"]["name"] for d in k8s_documents() if d["kind"] == "Deployment"}
    workers = {f"{name}-worker" for name in available_services()}
    assert deployed == {*available_services(), *workers, "router", "grader"}


def _router_environments() -> dict[str, dict[str, str]]:
    """The variables router.yaml is expanded with: none (`lms dev`'s defaults), compose's, the
    Deployment's."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {
        "dev": {},
        "compose": compose["services"]["router"]["environment"],
        "k8s": _k8s_environment("router"),
    }


def _k8s_environment(deployment: str) -> dict[str, str]:
    documents = k8s_documents()
    [found] = [
        d for d in documents if (d["kind"], d["metadata"]["name"]) == ("Deployment", deployment)
    ]
    [container] = found["spec"]["template"]["spec"]["containers"]
    return container_environment(documents, container)


@pytest.mark.parametrize("where", ["compose", "k8s"])
def test_the_router_checks_the_issuer_and_audience_the_users_subgraph_issues(where: str) -> None:
    """One value for both, so that setting it cannot leave the router refusing every token."""
    if where == "compose":
        services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
        users = services["users"]["environment"]
    else:
        users = _k8s_environment("users")
    config = load_config(ROOT / "router.yaml", environ=_router_environments()[where])
    assert config.authentication.router.jwt is not None
    [source] = config.authentication.router.jwt.jwks
    assert source.issuer == users["LMS_JWT_ISSUER"]
    assert list(source.audiences) == [users["LMS_JWT_AUDIENCE"]]


@pytest.mark.parametrize("where", ["dev", "compose", "k8s"])
def test_router_yaml_is_valid_where_it_is_deployed(where: str) -> None:
    config = load_config(ROOT / "router.yaml", environ=_router_environments()[where])
    assert set(config.override_subgraph_url) == set(available_services())
    assert config.authentication.router.jwt is not None


def test_the_k8s_config_map_holds_the_checked_in_router_yaml() -> None:
    [config_map] = [d for d in k8s_documents() if d["metadata"]["name"] == "router-config"]
    assert config_map["data"]["router.yaml"] == (ROOT / "router.yaml").read_text(), (
        "copy router.yaml into k8s/base/router-config.yaml (indented under `router.yaml: |`)"
    )


def _check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with a schema shipped inside the package (no network)."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_compose_file_passes_the_compose_spec(tmp_path: Path) -> None:
    checked = _check_jsonschema("vendor.compose-spec", ROOT / "docker-compose.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    broken["services"]["router"]["healthcheck"]["interval"] = ["5s"]
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken))
    assert _check_jsonschema("vendor.compose-spec", tmp_path / "docker-compose.yml").returncode == 1


def test_the_ci_workflow_passes_githubs_schema_and_runs_every_check() -> None:
    path = ROOT / ".github" / "workflows" / "ci.yml"
    checked = _check_jsonschema("vendor.github-workflows", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    workflow = yaml.safe_load(path.read_text())
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads `on` as true
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    for command in (
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "bash .ci/run",
        "docker build",
        "kubectl kustomize",
        "kubernetes-validate --strict",
        "check-jsonschema --builtin-schema vendor.compose-spec",
        "check-jsonschema --builtin-schema vendor.github-workflows",
    ):
        assert any(command in run for run in runs), command


def _final_stage() -> str:
    return (ROOT / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]


def test_the_image_is_multi_stage_non_root_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("\nFROM ") >= 2
    final = _final_stage()
    [user] = re.findall(r"^USER (\d+):(\d+)$", final, re.MULTILINE)
    assert user != ("0", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*CMD ", final, re.MULTILINE)
    for tool in ("pip install", "npm", "gcc", "build-essential", "-dev "):
        assert tool not in final, tool
    assert "pip uninstall -y -q pip setuptools wheel" in final


def test_the_image_holds_every_package_the_project_installs() -> None:
    """`pip install .` takes the packages it finds: one the image does not copy is missing
    from it without an error at build time (its command then fails in the cluster)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in patterns}
    copied = set(re.findall(r"^COPY (\S+) \1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert packages <= copied, packages - copied


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    linted = subprocess.run(
        [hadolint, "--no-color", ROOT / "Dockerfile"], capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_compose_volumes_are_owned_by_the_images_user() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    named = set(compose["volumes"])
    uid, gid = re.findall(r"^USER (\d+):(\d+)$", _final_stage(), re.MULTILINE)[0]
    [owned] = re.findall(rf"chown {uid}:{gid} ((?:/\S+ ?)+)", _final_stage())
    image_owned = set(owned.split())
    for name, service in compose["services"].items():
        if service.get("build") != "." or name == "volumes-owner":
            continue
        targets = [v.split(":")[1] for v in service.get("volumes", []) if v.split(":")[0] in named]
        assert set(targets) <= image_owned, name
    hand_over = compose["services"]["volumes-owner"]
    assert hand_over["command"][:2] == ["chown", f"{uid}:{gid}"]
    assert set(hand_over["command"][2:]) == {v.split(":")[1] for v in hand_over["volumes"]}


def test_compose_router_serves_the_checked_in_router_yaml() -> None:
    router = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["router"]
    config = router["environment"]["APOLLO_ROUTER_CONFIG_PATH"]
    assert mounts(router) == {config: ROOT / "router.yaml"}


def test_every_long_running_compose_service_has_a_health_check() -> None:
    """An explicit healthcheck, or the image's one (LMS_HEALTH_URL) at a port it serves."""
    for name, service in yaml.safe_load((ROOT / "docker-compose.yml").read_text())[
        "services"
    ].items():
        if service.get("build") != "." or service.get("restart") == "no":
            continue
        if "healthcheck" in service:
            continue
        environment = service["environment"]
        port = environment["LMS_WORKER_METRICS_PORT"]
        assert environment["LMS_HEALTH_URL"] == f"http://127.0.0.1:{port}/metrics", name


SECRET = re.compile(r"PASSWORD|SECRET|ENCRYPTION_KEY|KEY_FILE")
OWN_KEYS = {
    "users": "LMS_JWT_PRIVATE_KEY_FILE",
    "enrollments": "LMS_CERTIFICATE_KEY_FILE",
    "courses": "LMS_LTI_KEY_FILE",
}
K8S_KEYS = {"users": "lms-jwt-key", "enrollments": "lms-certificate-key", "courses": "lms-lti-key"}
COMPOSE_KEYS = {"users": "platform-key", "enrollments": "certificate-key", "courses": "lti-key"}
SERVER_ONLY_KEYS = {"courses"}  # LTI launches are signed by the server; its worker signs nothing


def _expected_keys(keys: dict[str, str], service: str, command: str) -> set[str]:
    if service not in keys or (service in SERVER_ONLY_KEYS and command != "serve"):
        return set()
    return {keys[service]}


def _foreign(service: str, variable: str) -> bool:
    """A secret variable that is not `service`'s own: another's password, client secret or
    key, or the administrator's."""
    others = [name.upper() for name in available_services() if name != service]
    if variable in ("LMS_PG_ADMIN_PASSWORD", "LMS_PG_SERVICE_PASSWORD"):
        return True
    if variable in OWN_KEYS.values():
        return OWN_KEYS.get(service) != variable
    if service == "users" and variable.startswith("LMS_CLIENT_SECRET_SHA256_"):
        return False  # what it checks the clients' secrets against
    return any(variable.endswith(f"_{other}") for other in others)


def test_compose_gives_each_service_only_its_own_secrets() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for container in compose["services"].values():
        command = container.get("command")
        if command == ["lms", "grader"]:  # runs learners' code: no secret, no key at all
            assert not [name for name in container["environment"] if SECRET.search(name)]
            assert container["volumes"] == []
            continue
        if not (isinstance(command, list) and command[:2] in (["lms", "serve"], ["lms", "worker"])):
            continue
        service = command[2]
        secrets = {name for name in container["environment"] if SECRET.search(name)}
        assert [name for name in secrets if _foreign(service, name)] == [], service
        assert f"LMS_PG_PASSWORD_{service.upper()}" in secrets
        keys = {volume.partition(":")[0] for volume in container.get("volumes", [])} - {"uploads"}
        assert keys == _expected_keys(COMPOSE_KEYS, service, command[1]), service


def test_k8s_gives_each_service_only_its_own_secrets() -> None:
    for document in k8s_documents():
        if document["kind"] != "Deployment" or document["metadata"]["name"] == "router":
            continue
        spec = document["spec"]["template"]["spec"]
        [container] = [c for c in spec["containers"] if c.get("command", [""])[0] == "lms"]
        refs = {each["secretRef"]["name"] for each in container["envFrom"] if "secretRef" in each}
        if container["command"] == ["lms", "grader"]:  # runs learners' code: no secret at all
            assert refs == set()
            assert not [each for each in spec.get("volumes", []) if "secret" in each]
            continue
        service = container["command"][2]
        assert refs == {f"lms-{service}-secrets"}
        volumes = spec.get("volumes", [])
        mounted = {each["secret"]["secretName"] for each in volumes if "secret" in each}
        assert mounted == _expected_keys(K8S_KEYS, service, container["command"][1]), service
