"""The X-Forwarded-For chain as deployed, ingress -> router -> subgraphs: in every k8s variant
and in docker-compose, nobody trusts every address, the subgraphs trust the router's network
and nothing wider than their own network, and the router trusts the ingress controller's
addresses only: an address it trusts cannot reach it from anywhere else (its NetworkPolicy),
and without an ingress it trusts nobody. (The chain at work: tests/integration/users/
test_client_addresses.py.)"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.addresses import Network, networks
from lms.services import available_services
from router.config import load_config
from tests.kustomize import Document, container_environment, pod_spec, render
from tests.network_policy import Endpoint, connects

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ROOT / "k8s" / "overlays"
VARIANTS = sorted(p.name for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").exists())
ROUTER_PORT = 4000


@cache
def _rendered(variant: str) -> tuple[Document, ...]:
    return tuple(render(OVERLAYS / variant))


def _environment(variant: str, deployment: str) -> dict[str, str]:
    documents = list(_rendered(variant))
    [found] = [
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == deployment
    ]
    spec = pod_spec(found)
    assert spec is not None
    [container] = spec["containers"]
    return container_environment(documents, container)


def _router_trusts(router_yaml: str, environment: dict[str, Any], tmp_path: Path) -> list[Network]:
    """`rate_limit.trusted_proxies` of this router.yaml, expanded with the router's variables."""
    path = tmp_path / "router.yaml"
    path.write_text(router_yaml)
    return list(load_config(path, environ=environment).rate_limit.trusted_proxies)


def _subgraph_trusts(environment: dict[str, Any]) -> list[Network]:
    return list(networks(environment["LMS_TRUSTED_PROXIES"].split(",")))


def _assert_narrow(trusted: list[Network], where: str) -> None:
    """Not every address (0.0.0.0/0, ::/0), nor any public one: a proxy is one of ours."""
    for network in trusted:
        assert network.prefixlen > 0, f"{where} trusts every address ({network})"
        assert network.is_private, f"{where} trusts public addresses ({network})"


def _host(network: Network) -> str:
    return str(network[1] if network.num_addresses > 1 else network[0])


@pytest.mark.parametrize("variant", VARIANTS)
def test_k8s_subgraphs_trust_the_router_network_and_nothing_wider(variant: str) -> None:
    names = [*available_services(), *(f"{name}-worker" for name in available_services())]
    trusts = {name: _subgraph_trusts(_environment(variant, name)) for name in names}
    [shared] = {tuple(trusted) for trusted in trusts.values()}  # one network for them all
    assert shared, "the subgraphs trust no router: every request would come from the router"
    _assert_narrow(list(shared), f"{variant}: the subgraphs")
    # the router's pods are on that network, and it reaches every subgraph from there
    policies = [d for d in _rendered(variant) if d["kind"] == "NetworkPolicy"]
    router = Endpoint(
        _host(shared[0]), "lms", {"app": "router", "app.kubernetes.io/part-of": "lms"}
    )
    for name in available_services():
        [service] = [
            d for d in _rendered(variant) if (d["kind"], d["metadata"]["name"]) == ("Service", name)
        ]
        port = service["spec"]["ports"][0]["port"]
        assert connects(policies, router, _pod(variant, name), port), name


def _pod(variant: str, app: str) -> Endpoint:
    for document in _rendered(variant):
        if document["kind"] == "Deployment" and document["metadata"]["name"] == app:
            labels = document["spec"]["template"]["metadata"]["labels"]
            return Endpoint("10.1.0.9", document["metadata"]["namespace"], labels)
    raise LookupError(app)


@pytest.mark.parametrize("variant", VARIANTS)
def test_k8s_router_trusts_the_ingress_controller_only(variant: str, tmp_path: Path) -> None:
    [router_config] = [
        d["data"]["router.yaml"]
        for d in _rendered(variant)
        if (d["kind"], d["metadata"]["name"]) == ("ConfigMap", "router-config")
    ]
    trusted = _router_trusts(router_config, _environment(variant, "router"), tmp_path)
    _assert_narrow(trusted, f"{variant}: the router")
    ingresses = [d for d in _rendered(variant) if d["kind"] == "Ingress"]
    if not ingresses:  # reached directly: its peer is the client
        assert trusted == []
        return
    assert trusted, "behind an ingress, the router would count every client as the ingress"
    [controller_namespace] = {
        f"ingress-{ingress['spec']['ingressClassName']}" for ingress in ingresses
    }
    policies = [d for d in _rendered(variant) if d["kind"] == "NetworkPolicy"]
    router = _pod(variant, "router")
    for network in trusted:
        address = _host(network)
        controller = Endpoint(address, controller_namespace, {"app": controller_namespace})
        assert connects(policies, controller, router, ROUTER_PORT)
        # any other pod at an address the router trusts could name a client: it cannot reach it
        for namespace, labels in (("lms", {"app": "courses"}), ("other", {"app": "other"})):
            stranger = Endpoint(address, namespace, labels)
            assert not connects(policies, stranger, router, ROUTER_PORT), (namespace, address)


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose


def test_compose_subgraphs_trust_the_router_address_on_the_fixed_network() -> None:
    compose = _compose()
    [subnet] = [
        ipaddress.ip_network(c["subnet"]) for c in compose["networks"]["default"]["ipam"]["config"]
    ]
    router_address = ipaddress.ip_address(
        compose["services"]["router"]["networks"]["default"]["ipv4_address"]
    )
    assert router_address in subnet
    for name, service in compose["services"].items():
        command = service.get("command")
        if not (isinstance(command, list) and command[:2] in (["lms", "serve"], ["lms", "worker"])):
            continue
        trusted = _subgraph_trusts(service["environment"])
        _assert_narrow(trusted, name)
        assert any(router_address in network for network in trusted), name
        assert all(n[0] in subnet and n[-1] in subnet for n in trusted), name  # no wider


def test_compose_router_reached_directly_trusts_no_proxy(tmp_path: Path) -> None:
    router = _compose()["services"]["router"]
    trusted = _router_trusts((ROOT / "router.yaml").read_text(), router["environment"], tmp_path)
    assert trusted == []
