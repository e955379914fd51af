"""What Prometheus watches on this platform, and with which rules: the scrape configuration
(the router, every subgraph, every worker), the alert rules and the Grafana dashboards.
`lms dev --with-monitoring`, the tests and the checked-in compose configuration
(monitoring/prometheus/prometheus.yml) are all built here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.settings import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[1]
MONITORING = ROOT / "monitoring"
RULES = MONITORING / "prometheus" / "alerts.yml"
RULE_TESTS = MONITORING / "prometheus" / "alerts_test.yml"
COMPOSE_CONFIG = MONITORING / "prometheus" / "prometheus.yml"
DASHBOARDS = MONITORING / "grafana" / "dashboards"
METRICS_PATH = "/metrics"
ROUTER_JOB = "lms-router"
SUBGRAPH_JOB = "lms-subgraphs"
WORKER_JOB = "lms-workers"
COMPOSE_ROUTER_PORT = 4000
COMPOSE_WORKER_METRICS_PORT = 9100  # LMS_WORKER_METRICS_PORT of each worker container
COMPOSE_RULES = "/etc/prometheus/alerts.yml"  # where docker-compose mounts alerts.yml


@dataclass(frozen=True, slots=True)
class Target:
    """One process to scrape: its job, its name (the `process` label) and host:port."""

    job: str
    process: str
    address: str


def platform_targets(
    router: str | None, subgraphs: Mapping[str, str], workers: Mapping[str, str]
) -> list[Target]:
    """The router (when it runs), each subgraph and each service's worker, by host:port."""
    targets = [] if router is None else [Target(ROUTER_JOB, "router", router)]
    targets += [Target(SUBGRAPH_JOB, name, address) for name, address in subgraphs.items()]
    targets += [Target(WORKER_JOB, f"{name}-worker", address) for name, address in workers.items()]
    return targets


def scrape_config(
    targets: Iterable[Target], rule_files: Sequence[str], interval: str = "15s"
) -> dict[str, Any]:
    """Prometheus' configuration: one job per kind of process, each target labelled with
    `process`, every target's metrics at /metrics, the rules evaluated as often as scraped."""
    jobs: dict[str, list[Target]] = {}
    for target in targets:
        jobs.setdefault(target.job, []).append(target)
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": list(rule_files),
        "scrape_configs": [
            {
                "job_name": job,
                "metrics_path": METRICS_PATH,
                "static_configs": [
                    {"targets": [target.address], "labels": {"process": target.process}}
                    for target in members
                ],
            }
            for job, members in jobs.items()
        ],
    }


def compose_config(names: Sequence[str]) -> dict[str, Any]:
    """The configuration docker-compose's Prometheus mounts: every container by its name."""
    targets = platform_targets(
        f"router:{COMPOSE_ROUTER_PORT}",
        {name: f"{name}:{DEFAULT_PORTS[name]}" for name in names},
        {name: f"{name}-worker:{COMPOSE_WORKER_METRICS_PORT}" for name in names},
    )
    return scrape_config(targets, [COMPOSE_RULES])
