"""Every Grafana dashboard panel shows data: after traffic through the router (queries, a
failing call, an event through a worker), each panel's PromQL, its template variables
substituted as Grafana would, runs against the real Prometheus scraping this session and
returns series. A panel without data fails here."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from common.events.envelope import Event
from common.infra.prometheus import PrometheusServer
from common.settings import Settings
from lms.monitoring import DASHBOARDS, RULES
from tests.accounts import login, register
from tests.email_links import verify_address
from tests.integration.events.test_reliability import publish
from tests.integration.notifications.test_notifications import inbox
from tests.sinks import SmtpSink
from tests.support import GraphQLClient, error_codes, eventually

# What Grafana puts for its built-in variables with a 1 s scrape interval (at least four
# scrapes per window; 1 m keeps the test's traffic inside every window for a while).
BUILT_IN = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
LABEL_VALUES = re.compile(r"label_values\((\w+),\s*(\w+)\)")
SCRAPE_WAIT = 120.0  # seconds: scrapes every second, rules and counters of five processes
ENROLLMENTS = "query { me { id email enrollments { edges { node { status } } } } }"


class PromQLError(Exception):
    """A panel's query Prometheus refuses, or one that cannot be built: fails at once
    (not an AssertionError, which `eventually` would retry)."""


@dataclass(frozen=True, slots=True)
class PanelQuery:
    dashboard: str
    panel: str
    expr: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel}: {self.expr}"


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panel_queries(dashboard: str, board: dict[str, Any]) -> list[PanelQuery]:
    """Every target expression of every panel (rows' nested panels included)."""
    panels = [*board["panels"]]
    panels += [nested for panel in board["panels"] for nested in panel.get("panels", [])]
    return [
        PanelQuery(dashboard, panel["title"], target["expr"])
        for panel in panels
        for target in panel.get("targets", [])
    ]


async def prometheus_query(
    http: httpx.AsyncClient, prometheus: PrometheusServer, expr: str
) -> list[Any]:
    """The series an instant query returns; a query Prometheus refuses fails the test."""
    response = await http.get(f"{prometheus.url}/api/v1/query", params={"query": expr})
    body = response.json()
    if body["status"] != "success":
        raise PromQLError(f"{expr}: {body.get('error')}")
    result: list[Any] = body["data"]["result"]
    return result


async def variable_values(
    http: httpx.AsyncClient, prometheus: PrometheusServer, variable: dict[str, Any]
) -> list[str]:
    """The values a query variable's label_values() finds."""
    found = LABEL_VALUES.fullmatch(variable["definition"])
    if found is None:
        raise PromQLError(f"unsupported variable query {variable['definition']}")
    metric, label = found.groups()
    response = await http.get(
        f"{prometheus.url}/api/v1/label/{label}/values", params={"match[]": metric}
    )
    values: list[str] = response.json()["data"]
    return values


def all_of(values: list[str]) -> str:
    """A multi-value variable with "All" selected, as Grafana writes it into PromQL."""
    return "(" + "|".join(map(re.escape, values)) + ")"


def substituted(expr: str, values: dict[str, str]) -> str:
    for name in sorted(values, key=len, reverse=True):  # $__rate_interval before $__range
        expr = expr.replace(f"${name}", values[name])
    return expr


async def drive_traffic(graph: GraphQLClient, settings: Settings, mail: SmtpSink) -> None:
    """A registration and its address verified (the events go through the users and
    notifications workers, the welcome e-mail out), queries across subgraphs, a failing
    sign-in, a document the router refuses, and an event whose handler fails every time (no
    such course): retried, then dead-lettered."""
    account = await register(graph, name="Monica Metrics")
    await verify_address(graph, mail, account)

    async def welcomed() -> bool:
        box = await inbox(graph, account, category="ACCOUNT")
        return bool(box["notifications"]["edges"])

    await eventually(welcomed)
    await graph.data(ENROLLMENTS, token=account.access_token)
    failed = await login(graph, account.email, password="not-the-password")
    assert error_codes(failed)
    refused = await graph.execute("query { noSuchField }")
    assert error_codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
    ghost = Event("course.published", {"course_id": str(uuid.uuid4()), "title": "Ghost"}, "courses")
    await publish(settings, "course.published", ghost.to_json())


async def test_every_dashboard_panel_returns_series_from_prometheus(
    prometheus: PrometheusServer,
    graph: GraphQLClient,
    http: httpx.AsyncClient,
    migrated: Settings,
    smtp_sink: SmtpSink,
) -> None:
    await drive_traffic(graph, migrated, smtp_sink)
    boards = dashboards()
    assert set(boards) == {"overview.json", "router.json", "services.json", "events.json"}
    without_data: list[str] = []

    async def every_panel_has_data() -> bool:
        without_data.clear()
        for name, board in boards.items():
            values = dict(BUILT_IN)
            for variable in board["templating"]["list"]:
                if variable["type"] == "datasource":
                    continue
                found = await variable_values(http, prometheus, variable)
                if found:
                    values[variable["name"]] = all_of(found)
                else:
                    without_data.append(f"{name} / ${variable['name']}: {variable['definition']}")
            for query in panel_queries(name, board):
                expr = substituted(query.expr, values)
                if "$" in expr or not await prometheus_query(http, prometheus, expr):
                    without_data.append(str(query))
        return not without_data

    try:
        await eventually(every_panel_has_data, within=SCRAPE_WAIT, every=1.0)
    except AssertionError:
        raise AssertionError("panels without data:\n" + "\n".join(without_data)) from None


async def test_prometheus_scrapes_every_target_and_loads_the_alert_rules(
    prometheus: PrometheusServer, http: httpx.AsyncClient
) -> None:
    async def every_target_up() -> bool:
        targets = (await http.get(f"{prometheus.url}/api/v1/targets")).json()["data"]
        active = targets["activeTargets"]
        return bool(active) and all(target["health"] == "up" for target in active)

    await eventually(every_target_up, within=30.0, every=0.5)
    rules = (await http.get(f"{prometheus.url}/api/v1/rules")).json()["data"]["groups"]
    alerts = {
        rule["name"] for group in rules for rule in group["rules"] if rule["type"] == "alerting"
    }
    written = yaml.safe_load(RULES.read_text())["groups"]
    assert alerts == {
        rule["alert"] for group in written for rule in group["rules"] if "alert" in rule
    }
