"""The ``lms`` command: dev, migrate, seed, serve, export-schema, compose, settings, router."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from common.db import migrations
from common.db.provisioning import provision
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

    configure_logging(name, settings.log_level)
    app = services.create_app(name, settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.service_port(name),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
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
    commands.add_parser("router", help="the federation router (lms router --help)", add_help=False)
    return root


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["router"]:
        from router.cli import main as router_main

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
