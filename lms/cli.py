"""The ``lms`` command: dev, migrate, seed, serve, worker, events, export-schema, compose,
settings, router."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from common.db import migrations
from common.db.provisioning import provision
from common.memory import freeze_startup_objects
from common.settings import Settings, describe
from common.telemetry.logging import configure_logging
from lms import services
from lms.compose import SUBGRAPHS_DIR, ComposeError, write_schema


def migrate(settings: Settings, names: list[str]) -> None:
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

    from router.server.http_protocol import ConnectionLimits, uvicorn_options

    configure_logging(name, settings.log_level)
    app = services.create_app(name, settings)
    freeze_startup_objects()
    limits = ConnectionLimits(settings.http_head_timeout, settings.http_body_timeout)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.service_port(name),
        timeout_graceful_shutdown=10,
        **uvicorn_options(limits),
    )


def export_schema(names: list[str], directory: Path = SUBGRAPHS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = directory / f"{name}.graphql"
        path.write_text(services.schema_sdl(name))
        written.append(path)
    return written


def print_settings() -> None:
    for variable, default, meaning in describe():
        print(f"{variable:28} {default:48} {meaning}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lms", description="The learning platform's command.")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="start infra, migrate, seed, run every service; Ctrl-C stops")
    for name, text in (
        ("migrate", "create roles/schemas and run migrations"),
        ("seed", "demo data"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("services", nargs="*", help="default: every service")
    serve_command = commands.add_parser("serve", help="run one subgraph in the foreground")
    serve_command.add_argument("service")
    export = commands.add_parser("export-schema", help="write schema/subgraphs/<name>.graphql")
    export.add_argument("services", nargs="*")
    commands.add_parser(
        "compose", help="schema/supergraph.yaml -> schema/subgraphs/*.graphql, supergraph.graphql"
    )
    commands.add_parser("settings", help="print every setting with its current value")
    worker = commands.add_parser("worker", help="run a service's outbox relay and event consumers")
    worker.add_argument("service")
    events = commands.add_parser("events", help="the event catalogue and dead-letter queues")
    events_commands = events.add_subparsers(dest="events_command", required=True)
    events_commands.add_parser("catalog", help="print the event catalogue as Markdown")
    dlq = events_commands.add_parser("dlq", help="a service's dead-letter queue")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("service")
    dlq.add_argument("--limit", type=int, default=100, help="messages to list")
    commands.add_parser(
        "rotate-mfa-key",
        help="seal every TOTP secret again with LMS_MFA_ENCRYPTION_KEY (after a key change)",
    )
    commands.add_parser("router", help="the federation router (lms router --help)", add_help=False)
    return root


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


def run_worker_command(settings: Settings, name: str) -> int:
    from common.events.worker import run_worker

    configure_logging(f"{name}-worker", settings.log_level)

    async def until_stopped() -> None:
        work = asyncio.ensure_future(run_worker(services.spec(name), settings))
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGINT, signal.SIGTERM):  # finish the message at hand, then stop
            loop.add_signal_handler(stop, work.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await work

    asyncio.run(until_stopped())
    return 0


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["router"]:
        from lms.router_command import main as router_main

        return router_main(args_list[1:])
    args = parser().parse_args(args_list)
    settings = Settings.from_env()
    names = [services.require_service(n) for n in getattr(args, "services", [])] or (
        services.available_services()
    )
    if args.command == "dev":
        from lms.dev import run_dev

        return run_dev(settings)
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
        try:
            written = write_schema()
        except ComposeError as error:
            print(f"lms compose: {error}", file=sys.stderr)
            return 1
        for path in written:
            print(f"wrote {path}")
    elif args.command == "settings":
        print_settings()
    elif args.command == "worker":
        return run_worker_command(settings, services.require_service(args.service))
    elif args.command == "events":
        return run_events_command(settings, args)
    elif args.command == "rotate-mfa-key":
        from subgraphs.users.key_rotation import reseal_mfa_secrets

        count = asyncio.run(reseal_mfa_secrets(settings))
        print(f"sealed {count} TOTP secrets again with the current key")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
