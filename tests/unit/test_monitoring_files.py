"""The monitoring files stay true: the alert rules pass `promtool check rules` and their unit
tests (`promtool test rules`); docker-compose mounts the Prometheus configuration
lms/monitoring.py builds, the rules and Grafana's provisioning; k8s holds the same rules and
dashboards and lets Prometheus scrape every pod."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import yaml

from common.infra.process import find_binary
from lms.monitoring import (
    COMPOSE_CONFIG,
    COMPOSE_RULES,
    COMPOSE_WORKER_METRICS_PORT,
    DASHBOARDS,
    METRICS_PATH,
    ROOT,
    RULE_TESTS,
    RULES,
    compose_config,
)
from lms.services import available_services
from tests.unit.test_deploy_files import k8s_documents, mounts


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_binary("promtool"), *args], capture_output=True, text=True, timeout=120
    )


def test_the_alert_rules_are_valid() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_fires_on_its_unit_test_series_and_only_there() -> None:
    tested = promtool("test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test() -> None:
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"] if "alert" in r}
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert alerts == tested == firing


def test_compose_prometheus_config_is_the_generated_one() -> None:
    assert yaml.safe_load(COMPOSE_CONFIG.read_text()) == compose_config(available_services()), (
        "write monitoring/prometheus/prometheus.yml from lms.monitoring.compose_config"
    )


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return services


def test_compose_prometheus_mounts_its_config_and_the_rules() -> None:
    mounted = mounts(compose_services()["prometheus"])
    assert mounted == {"/etc/prometheus/prometheus.yml": COMPOSE_CONFIG, COMPOSE_RULES: RULES}


def test_compose_grafana_is_provisioned_with_prometheus_and_the_dashboards() -> None:
    mounted = mounts(compose_services()["grafana"])
    provisioning = mounted["/etc/grafana/provisioning"]
    [provider] = yaml.safe_load((provisioning / "dashboards" / "lms.yml").read_text())["providers"]
    assert mounted[provider["options"]["path"]] == DASHBOARDS
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert (source["type"], source["url"]) == ("prometheus", "http://prometheus:9090")


def test_compose_workers_serve_metrics_where_prometheus_scrapes_them() -> None:
    services = compose_services()
    for name in available_services():
        environment = services[f"{name}-worker"]["environment"]
        assert environment["LMS_WORKER_METRICS_PORT"] == str(COMPOSE_WORKER_METRICS_PORT)
        assert environment["LMS_PG_HOST"] == "postgres"  # the shared environment is kept


def test_compose_services_send_their_traces_to_zipkin() -> None:
    services = compose_services()
    assert "zipkin" in services
    for name in [*available_services(), *(f"{n}-worker" for n in available_services()), "router"]:
        environment = services[name]["environment"]
        assert environment["LMS_TRACING_EXPORTER"] == "zipkin", name
        assert environment["LMS_ZIPKIN_ENDPOINT"] == "http://zipkin:9411/api/v2/spans", name


def config_map(name: str) -> dict[str, str]:
    [found] = [
        d for d in k8s_documents() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name
    ]
    data: dict[str, str] = found["data"]
    return data


def test_the_k8s_dashboards_config_map_holds_the_dashboards() -> None:
    expected = {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert config_map("grafana-dashboards") == expected, (
        "copy monitoring/grafana/dashboards/*.json into k8s/base/grafana-dashboards.yaml"
    )


def test_the_k8s_rules_config_map_holds_the_alert_rules() -> None:
    assert config_map("prometheus-rules") == {"alerts.yml": RULES.read_text()}, (
        "copy monitoring/prometheus/alerts.yml into k8s/base/prometheus-rules.yaml"
    )


def test_every_k8s_pod_is_scraped_on_a_port_it_serves() -> None:
    deployments = [d for d in k8s_documents() if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= {"router", *available_services()}
    for deployment in deployments:
        template = deployment["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == METRICS_PATH
        ports = {p["containerPort"] for c in template["spec"]["containers"] for p in c["ports"]}
        assert int(annotations["prometheus.io/port"]) in ports, deployment["metadata"]["name"]


def test_dashboards_are_grafana_json_over_a_chosen_prometheus() -> None:
    boards = [json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))]
    assert len({board["uid"] for board in boards}) == len(boards) == 4
    for board in boards:
        assert board["schemaVersion"] == 39
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        for panel in board["panels"]:
            assert panel["targets"], panel["title"]
            for part in [panel, *panel["targets"]]:
                assert part["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
