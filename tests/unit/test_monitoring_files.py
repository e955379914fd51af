"""The monitoring files stay true: the alert rules pass `promtool check rules` and their unit
tests (`promtool test rules`), and the configuration docker-compose mounts is the one
lms/monitoring.py builds."""

from __future__ import annotations

import subprocess

import yaml

from common.infra.process import find_binary
from lms.monitoring import COMPOSE_CONFIG, RULE_TESTS, RULES, compose_config
from lms.services import available_services


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
