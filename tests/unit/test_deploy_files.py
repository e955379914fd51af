"""docker-compose.yml and k8s/ stay in step with the code: files exist, commands parse, the
router's configuration is the checked-in router.yaml and is valid where it is deployed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lms.cli import parser as lms_parser
from lms.router_command import PLATFORM
from lms.services import available_services
from router.cli import _parser as router_parser
from router.config import load_config

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s" / "base"


def k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((K8S / resource).read_text()) if d]
    return documents


def _commands() -> list[list[str]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = [
        service["command"]
        for service in compose["services"].values()
        if isinstance(service.get("command"), list) and service["command"][0] == "lms"
    ]
    for document in k8s_documents():
        spec = document.get("spec", {})
        if document["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        spec = spec.get("template", {}).get("spec", {})
        commands += [c["command"] for c in spec.get("containers", []) if "command" in c]
    return commands


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_deployed_command_parses(command: list[str]) -> None:
    assert command[0] == "lms"
    if command[1] == "router":
        args = router_parser(PLATFORM).parse_args(command[2:])  # as `lms router` parses
        supergraph = str(args.supergraph).removeprefix("/app/")
        assert (ROOT / supergraph).exists()
        assert args.config in (Path("router.yaml"), Path("/etc/router/router.yaml"))
    else:
        args = lms_parser().parse_args(command[1:])
        if args.command == "serve":
            assert args.service in available_services()


def test_every_service_is_deployed() -> None:
    deployed = {d["metadata"]["name"] for d in k8s_documents() if d["kind"] == "Deployment"}
    workers = {f"{name}-worker" for name in available_services()}
    assert deployed == {*available_services(), *workers, "router"}


def _router_environments() -> dict[str, dict[str, str]]:
    """The variables router.yaml is expanded with: none (`lms dev`'s defaults), compose's, the
    Deployment's."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    documents = k8s_documents()
    [shared] = [d["data"] for d in documents if d["metadata"]["name"] == "lms-config"]
    [router] = [d for d in documents if d["metadata"]["name"] == "router"][:1]
    [container] = router["spec"]["template"]["spec"]["containers"]
    k8s = {**shared, **{e["name"]: e["value"] for e in container["env"]}}
    return {"dev": {}, "compose": compose["services"]["router"]["environment"], "k8s": k8s}


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
