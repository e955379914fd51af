"""docker-compose.yml and k8s/ stay in step with the code: files exist, commands parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lms.cli import parser as lms_parser
from lms.router_command import PLATFORM
from lms.services import available_services
from router.cli import _parser as router_parser

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s" / "base"


def _k8s_documents() -> list[dict[str, Any]]:
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
    for document in _k8s_documents():
        spec = document.get("spec", {}).get("template", {}).get("spec", {})
        commands += [c["command"] for c in spec.get("containers", []) if "command" in c]
    return commands


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_deployed_command_parses(command: list[str]) -> None:
    assert command[0] == "lms"
    if command[1] == "router":
        args = router_parser(PLATFORM).parse_args(command[2:])  # as `lms router` parses
        supergraph = str(args.supergraph).removeprefix("/app/")
        assert (ROOT / supergraph).exists()
        urls = dict(item.split("=", 1) for item in args.subgraph_url)
        assert set(urls) == set(available_services())
    else:
        args = lms_parser().parse_args(command[1:])
        if args.command == "serve":
            assert args.service in available_services()


def test_every_service_is_deployed() -> None:
    deployed = {d["metadata"]["name"] for d in _k8s_documents() if d["kind"] == "Deployment"}
    workers = {f"{name}-worker" for name in available_services()}
    assert deployed == {*available_services(), *workers, "router"}
