"""Bad configuration ends a command with one `error:` line and status 2; --debug shows where."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.lms_process import ROOT, environment, one_error_line, run_lms, run_python

SUPERGRAPH = str(ROOT / "schema" / "supergraph.graphql")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LMS_ROUTER_PORT", "abc", "LMS_ROUTER_PORT must be an integer, got 'abc'"),
        ("LMS_PG_PORT", "99999", "LMS_PG_PORT must be from 1 to 65535, got 99999"),
        ("LMS_USERS_PORT", "0", "LMS_USERS_PORT must be from 1 to 65535, got 0"),
        ("LMS_HTTP_HEAD_TIMEOUT", "0", "LMS_HTTP_HEAD_TIMEOUT must be at least 1, got 0"),
        ("LMS_PG_POOL_SIZE", "-3", "LMS_PG_POOL_SIZE must be at least 1, got -3"),
        ("LMS_ENV", "prod", "LMS_ENV must be one of dev, test, production, got 'prod'"),
        ("LMS_LOG_LEVEL", "loud", "LMS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
        ("LMS_SMTP_STARTTLS", "maybe", "LMS_SMTP_STARTTLS must be true or false, got 'maybe'"),
        (
            "LMS_TRUSTED_PROXIES",
            "10.0.0.0/8,router",
            "LMS_TRUSTED_PROXIES must be IP addresses or networks, got 'router'",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(variable: str, value: str, message: str) -> None:
    done = run_lms("settings", env=environment(**{variable: value}))
    assert done.returncode == 2
    assert one_error_line(done).startswith(f"error: {message}")
    assert done.stdout == ""


def test_debug_shows_the_traceback() -> None:
    done = run_lms("--debug", "settings", env=environment(LMS_ROUTER_PORT="abc"))
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert "SettingsError: LMS_ROUTER_PORT must be an integer" in done.stderr
    after_command = run_lms("settings", "--debug", env=environment(LMS_ROUTER_PORT="abc"))
    assert "Traceback (most recent call last)" in after_command.stderr


def test_an_unknown_service_is_one_line() -> None:
    done = run_lms("serve", "nope")
    assert done.returncode == 2
    assert one_error_line(done) == (
        "error: unknown service 'nope'; this tree has: "
        "users, courses, enrollments, assessments, notifications, analytics"
    )


def test_router_refuses_a_missing_supergraph(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.graphql"
    done = run_lms("router", "serve", "--supergraph", str(missing))
    assert done.returncode == 2
    assert one_error_line(done) == f"error: {missing}: No such file or directory"


def test_router_reads_its_files_from_apollo_routers_variables(tmp_path: Path) -> None:
    """A container passes no argument: the supergraph and router.yaml come from the
    environment (a ConfigMap), and a bad one is named like a bad argument."""
    missing = tmp_path / "nowhere.graphql"
    env = environment(APOLLO_ROUTER_SUPERGRAPH_PATH=str(missing))
    done = run_lms("router", "serve", env=env)
    assert done.returncode == 2
    assert one_error_line(done) == f"error: {missing}: No such file or directory"
    config = tmp_path / "router.yaml"
    config.write_text("supergraph:\n  listen: ${env.LMS_TEST_NOT_SET}\n")
    env = environment(
        APOLLO_ROUTER_SUPERGRAPH_PATH=SUPERGRAPH, APOLLO_ROUTER_CONFIG_PATH=str(config)
    )
    done = run_lms("router", "serve", env=env)
    assert done.returncode == 2
    assert one_error_line(done).startswith(f"error: {config}: supergraph.listen: ")


def test_router_without_a_supergraph_says_where_to_name_one() -> None:
    done = run_lms("router", "serve")
    assert done.returncode == 2
    assert one_error_line(done) == (
        "error: --supergraph FILE (or APOLLO_ROUTER_SUPERGRAPH_PATH) is required"
    )


def test_router_refuses_a_port_out_of_range() -> None:
    done = run_lms("router", "serve", "--supergraph", SUPERGRAPH, "--port", "99999")
    assert done.returncode == 2
    assert "argument --port: 99999 is not a port (1-65535)" in done.stderr
    assert "Traceback" not in done.stderr


def test_router_refuses_a_busy_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_lms("router", "serve", "--supergraph", SUPERGRAPH, "--port", str(port))
    assert done.returncode == 2
    assert one_error_line(done) == (
        f"error: cannot listen on 127.0.0.1:{port} (supergraph.listen, --host/--port): "
        "Address already in use"
    )


def test_router_refuses_a_bad_config_file_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "router.yaml"
    config.write_text("supergraph:\n  listen: ${env.LMS_TEST_NOT_SET}\n")
    done = run_lms("router", "serve", "--supergraph", SUPERGRAPH, "--config", str(config))
    assert done.returncode == 2
    assert one_error_line(done).startswith(
        f"error: {config}: supergraph.listen: environment variable LMS_TEST_NOT_SET is not set"
    )
    debugged = run_lms(
        "router", "--debug", "serve", "--supergraph", SUPERGRAPH, "--config", str(config)
    )
    assert "Traceback (most recent call last)" in debugged.stderr


def test_router_config_schema_is_json_schema() -> None:
    done = run_lms("router", "config-schema")
    assert done.returncode == 0, done.stderr
    assert '"$schema": "https://json-schema.org/draft/2020-12/schema"' in done.stdout


def test_training_without_the_analytics_extra_names_it_in_one_line() -> None:
    """scikit-learn made unimportable, as in an image built without the extra."""
    done = run_python(
        "import sys; sys.modules['sklearn'] = None\n"
        "from lms.cli import main\n"
        "raise SystemExit(main(['analytics', 'train-at-risk']))"
    )
    assert done.returncode == 2
    assert one_error_line(done) == (
        "error: lms analytics train-at-risk: training needs the `analytics` extra (sklearn is "
        "missing): pip install -c constraints.txt '.[analytics]' (the image: EXTRAS=analytics)"
    )
