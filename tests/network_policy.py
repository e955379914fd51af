"""Whether Kubernetes NetworkPolicies let one endpoint open a TCP connection to another, as the
API defines it: a pod that some policy selects for a direction is isolated in it, and then
only what a rule of one of those policies names is allowed; a connection needs both the
source's egress and the destination's ingress. Peers: podSelector (same namespace),
namespaceSelector (with a podSelector, both must match) and ipBlock (with its `except`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Policy = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """A pod (labels, namespace and its namespace's labels) or, without labels, an address
    outside the cluster."""

    address: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace} if self.namespace else {}


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        present = key in labels
        if not {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


def _peer_matches(peer: dict[str, Any], other: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.address)
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(excepted) for excepted in block.get("except", [])
        )
    if other.namespace is None:  # outside the cluster: only an ipBlock can name it
        return False
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return matches(peer.get("podSelector", {}), other.labels)


def _port_matches(ports: list[dict[str, Any]] | None, port: int) -> bool:
    return ports is None or any(
        p.get("protocol", "TCP") == "TCP" and p.get("port") in (None, port) for p in ports
    )


def _default_types(spec: dict[str, Any]) -> list[str]:
    return ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _allowed(policies: list[Policy], pod: Endpoint, other: Endpoint, port: int, way: str) -> bool:
    direction, rules_key, peers_key = {
        "in": ("Ingress", "ingress", "from"),
        "out": ("Egress", "egress", "to"),
    }[way]
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and direction in p["spec"].get("policyTypes", _default_types(p["spec"]))
        and matches(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    return any(
        _port_matches(rule.get("ports"), port)
        and (
            peers_key not in rule
            or any(
                _peer_matches(peer, other, p["metadata"]["namespace"]) for peer in rule[peers_key]
            )
        )
        for p in selecting
        for rule in p["spec"].get(rules_key, [])
    )


def connects(policies: list[Policy], source: Endpoint, destination: Endpoint, port: int) -> bool:
    """Whether source may open a connection to destination's port."""
    outgoing = source.namespace is None or _allowed(policies, source, destination, port, "out")
    incoming = destination.namespace is None or _allowed(policies, destination, source, port, "in")
    return outgoing and incoming
