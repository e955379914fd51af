"""`serve`, `plan` and `config-schema` subcommands; `python -m router` serves.

A program embedding the router (the platform's `lms router`) passes a `CliExtension`: its
own options for `serve`, and the revocation list they make.
"""

import argparse
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, parse

from router.config import ConfigError, ConfigSource
from router.config.loader import merge
from router.config.schema import json_schema
from router.config.server import split_listen
from router.logs import log_json_to_stderr
from router.planning import PlanningError, plan, print_plan
from router.policies.manifest import manifest_from_folder
from router.policies.revocations import Revocations
from router.server.collector import settle_after_startup
from router.server.http_protocol import uvicorn_options
from router.server.workers import Supervisor, leave_on_stop_signal, reuseport_socket
from router.subscriptions.limits import SubscriptionLimits
from router.supergraph import SupergraphError, load_supergraph
from router.telemetry import start_tracing

COMMANDS = ("serve", "plan", "config-schema", "persisted-queries", "cache")
# Where `serve` finds its files when --supergraph and --config are not given (Apollo Router's
# variables), so that a container's arguments are the command alone.
SUPERGRAPH_VARIABLE = "APOLLO_ROUTER_SUPERGRAPH_PATH"
CONFIG_VARIABLE = "APOLLO_ROUTER_CONFIG_PATH"
DEBUG_HELP = "on an error, show its traceback instead of one line"
MAX_PORT = 65535


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{port} is not a port (1-{MAX_PORT})")
    return port


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _path_from_env(name: str) -> Path | None:
    value = os.environ.get(name, "")
    return Path(value) if value else None


def _require_free_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as failure:
            raise ValueError(
                f"cannot listen on {host}:{port} (supergraph.listen, --host/--port): "
                f"{failure.strerror}"
            ) from None


@dataclass(frozen=True, slots=True)
class CliExtension:
    add_arguments: Callable[[argparse._ArgumentGroup], None]  # to serve's authentication group
    revocations: Callable[[argparse.Namespace], Revocations | None]


def _parser(extension: CliExtension | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="router",
        description="Apollo Federation v2 router: serve a supergraph, or print a query plan.",
        epilog="Exit status: 2 for a bad argument, configuration, supergraph or port (one line "
        "each; --debug shows the traceback).",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve a supergraph over HTTP",
        usage="%(prog)s --supergraph FILE [--config router.yaml] [options]",
        description="Serve a supergraph over HTTP. The options below, when given, win over "
        "the configuration file (each names the key it sets).",
    )
    serve.add_argument(
        "--supergraph",
        type=Path,
        default=_path_from_env(SUPERGRAPH_VARIABLE),
        help=f"the supergraph SDL file (composed); default: ${SUPERGRAPH_VARIABLE}",
    )
    serve.add_argument(
        "--config",
        type=Path,
        default=_path_from_env(CONFIG_VARIABLE),
        metavar="FILE",
        help="router.yaml (`router config-schema` prints its JSON Schema); reloaded when it "
        f"changes, a bad change refused; default: ${CONFIG_VARIABLE}",
    )
    serve.add_argument("--host", help="address to listen on (supergraph.listen)")
    serve.add_argument("--port", type=_port, help="port to listen on, 1-65535 (supergraph.listen)")
    serve.add_argument(
        "--subgraph-timeout",
        type=_positive_float,
        help="seconds a subgraph has to answer (traffic_shaping.all.timeout)",
    )
    serve.add_argument(
        "--timeout",
        action="append",
        metavar="SUBGRAPH=SECONDS",
        help="a per-subgraph timeout (traffic_shaping.subgraphs.SUBGRAPH.timeout); repeatable",
    )
    serve.add_argument(
        "--client",
        choices=["streams", "httpx", "aiohttp"],
        help="HTTP client for subgraph calls (client.kind; streams: lean asyncio keep-alive "
        "client; aiohttp needs the `bench` extra)",
    )
    serve.add_argument(
        "--max-subgraph-response-bytes",
        type=int,
        help="largest subgraph answer read; a longer one is an error for that fetch "
        "(limits.subgraph_response_max_bytes)",
    )
    serve.add_argument(
        "--subgraph-url",
        action="append",
        metavar="SUBGRAPH=URL",
        help="override a subgraph URL from the supergraph (override_subgraph_url); repeatable",
    )
    serve.add_argument(
        "--no-watch",
        dest="watch",
        action="store_false",
        help="do not reload the supergraph and configuration files when they change",
    )
    serve.add_argument(
        "--override-label",
        action="append",
        default=[],
        metavar="LABEL",
        help="take over the progressive @override(label: LABEL) fields; repeatable "
        "(percent(N) labels are drawn per request, other labels are off unless named)",
    )
    serve.add_argument(
        "--watch-interval",
        type=_positive_float,
        default=1.0,
        help="seconds between checks of the supergraph and configuration files",
    )
    serve.add_argument("--max-depth", type=int, help="deepest nesting of fields (limits.max_depth)")
    serve.add_argument("--max-aliases", type=int, help="aliases per operation (limits.max_aliases)")
    serve.add_argument(
        "--max-root-fields",
        type=int,
        help="fields at the root of an operation (limits.max_root_fields)",
    )
    serve.add_argument(
        "--max-selections",
        type=int,
        help="selections once every fragment spread is expanded, repeats counted "
        "(limits.max_selections)",
    )
    serve.add_argument(
        "--max-validation-work",
        type=int,
        help="comparisons validation may make between same-named fields "
        "(limits.max_validation_work)",
    )
    serve.add_argument(
        "--max-upload-bytes",
        type=int,
        help="largest multipart (file upload) request body, files included "
        "(limits.http_max_request_bytes)",
    )
    serve.add_argument(
        "--max-upload-files", type=int, help="files per request (limits.max_upload_files)"
    )
    serve.add_argument(
        "--dedup-inflight",
        action="store_true",
        default=None,
        help="identical queries in flight with the same credentials share one execution "
        "(supergraph.deduplicate_inflight)",
    )
    auth = serve.add_argument_group(
        "authentication (bearer access tokens, JWT; authentication.router.jwt)"
    )
    auth.add_argument(
        "--jwks-url",
        action="append",
        help="where the signing keys are published; repeatable (with --jwt-issuer and "
        "--jwt-audience)",
    )
    auth.add_argument("--jwt-issuer", help="the iss tokens must carry")
    auth.add_argument("--jwt-audience", help="the aud tokens must carry")
    auth.add_argument("--jwt-leeway", type=int, help="seconds of clock skew allowed")
    auth.add_argument(
        "--jwt-algorithm",
        action="append",
        metavar="ALG",
        help="a signing algorithm accepted (RS256 when none is named; asymmetric only); repeatable",
    )
    if extension is not None:
        extension.add_arguments(auth)
    auth.add_argument(
        "--api-key-url",
        help="where an X-API-Key is traded for an access token, needs JWT "
        "(authentication.router.api_keys.url)",
    )
    auth.add_argument(
        "--api-key-cache",
        type=float,
        help="seconds a traded API key is remembered, how long a revoked key lingers "
        "(authentication.router.api_keys.cache_for)",
    )
    authz = serve.add_argument_group("authorization (@authenticated, @requiresScopes, @policy)")
    authz.add_argument(
        "--reject-unauthorized",
        action="store_true",
        default=None,
        help="refuse a whole operation that asks for anything the caller may not read "
        "(default: those fields come back null, each with an error; "
        "authorization.directives.reject_unauthorized)",
    )
    authz.add_argument(
        "--policy",
        action="append",
        metavar="NAME=CLAIM:VALUE",
        help="a @policy name that holds when the token's CLAIM is or contains VALUE "
        "(repeatable); a policy named CLAIM:VALUE needs no entry, any other is denied "
        "(authorization.policies)",
    )
    ws = serve.add_argument_group("subscriptions (WebSocket at the GraphQL path; subscription)")
    ws.add_argument(
        "--ws-init-timeout",
        type=_positive_float,
        help="seconds a client has to send connection_init (subscription.init_timeout)",
    )
    ws.add_argument(
        "--ws-keepalive",
        type=float,
        help="seconds between the router's pings (subscription.keepalive)",
    )
    ws.add_argument(
        "--ws-queue-size",
        type=int,
        help="messages waiting for a client before it is disconnected as too slow "
        "(subscription.queue_capacity)",
    )
    ws.add_argument(
        "--ws-max-operations",
        type=int,
        help="operations at once on one connection "
        "(subscription.max_opened_subscriptions_per_connection)",
    )
    slow = serve.add_argument_group("slow clients (slowloris)")
    slow.add_argument(
        "--head-timeout",
        type=float,
        help="seconds a client has to send a request's head, 408 and close after "
        "(limits.request_head_timeout)",
    )
    slow.add_argument(
        "--body-timeout",
        type=float,
        help="seconds a client has to send a request's body once its head arrived "
        "(limits.request_body_timeout)",
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="processes serving the port, each a whole router (SO_REUSEPORT; the kernel "
        "spreads connections among them); one per core to use. Each keeps its own caches, "
        "limits and /metrics",
    )
    serve.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="least severe log records written, JSON on stderr (telemetry.exporters.logging.level)",
    )
    commands.add_parser(
        "config-schema",
        help="print router.yaml's JSON Schema (for editors)",
        description="Print the JSON Schema of router.yaml (`serve --config`), for editors "
        "to validate and complete the file with.",
    )
    show = commands.add_parser(
        "plan",
        help="print the query plan of an operation",
        description="Print the query plan of an operation.",
    )
    show.add_argument(
        "--supergraph", required=True, type=Path, help="the supergraph SDL file (composed)"
    )
    show.add_argument(
        "--query", required=True, type=Path, help="a file holding the operation's document"
    )
    show.add_argument(
        "--operation-name", default=None, help="which operation, when the document has several"
    )
    show.add_argument(
        "--override-label",
        action="append",
        default=[],
        metavar="LABEL",
        help="plan with this progressive @override label taken over; repeatable",
    )
    _add_persisted_queries(commands)
    _add_cache(commands)
    return parser


def _add_cache(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    cache = commands.add_parser(
        "cache",
        help="the entity cache (preview_entity_cache)",
        description="The entity cache shared by the routers (preview_entity_cache).",
    )
    actions = cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    purge = actions.add_parser(
        "purge",
        help="drop cached entities (and the root-field answers that held them) everywhere",
        description="Drop entries from router.yaml's Redis and tell every router replica to "
        "drop them from its own memory: one type's entities (--type), one entity (--type "
        "and --key), or everything (--all).",
    )
    purge.add_argument("--config", required=True, type=Path, help="router.yaml")
    purge.add_argument("--type", dest="typename", metavar="TYPE", help="an entity type")
    purge.add_argument(
        "--key",
        action="append",
        metavar="FIELD=VALUE",
        help="a key field of the entity (with --type), as its representation has it; repeatable",
    )
    purge.add_argument("--all", action="store_true", help="every entry")


def _cache(args: argparse.Namespace) -> int:
    import asyncio

    from router.cache.purge import purge

    if args.all == bool(args.typename):
        raise ValueError("say what to purge: --type TYPE [--key FIELD=VALUE], or --all")
    if args.key and not args.typename:
        raise ValueError("--key needs --type")
    key = _pairs(args.key) or None
    section = ConfigSource(args.config, {}).load().preview_entity_cache
    dropped, told = asyncio.run(purge(section, args.typename, key))
    print(f"{dropped} entries deleted from Redis; {told} routers told", file=sys.stderr)
    return 0


def _add_persisted_queries(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    persisted = commands.add_parser(
        "persisted-queries",
        help="persisted query manifests (safelisting)",
        description="Persisted query manifests, in Apollo's format, for persisted_queries: in "
        "router.yaml.",
    )
    actions = persisted.add_subparsers(dest="action", required=True, metavar="ACTION")
    manifest = actions.add_parser(
        "manifest",
        help="write the manifest of every operation in a folder's .graphql files",
        description="Write the manifest of every operation in the .graphql files under DIR "
        "(one entry per named operation, with the fragments it uses; id: the SHA-256 of its "
        "body).",
    )
    manifest.add_argument("directory", type=Path, metavar="DIR", help="the folder of operations")
    manifest.add_argument(
        "-o", "--output", required=True, type=Path, metavar="FILE", help="the manifest to write"
    )


def _persisted_queries(args: argparse.Namespace) -> int:
    manifest = manifest_from_folder(args.directory)
    args.output.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"{args.output}: {len(manifest['operations'])} operations", file=sys.stderr)
    return 0


def _pairs(items: list[str] | None) -> dict[str, str]:
    pairs = {}
    for item in items or ():
        name, separator, value = item.partition("=")
        if not separator:
            raise ValueError(f"expected NAME=VALUE, got {item!r}")
        pairs[name] = value
    return pairs


def _put(into: dict[str, Any], path: str, value: Any) -> None:
    """``value`` at the dotted ``path`` of ``into``, unless it is None (an option not given)."""
    if value is None:
        return
    *parents, key = path.split(".")
    for parent in parents:
        into = into.setdefault(parent, {})
    into[key] = value


# Options that set one key of router.yaml each.
_KEYS = {
    "subgraph_timeout": "traffic_shaping.all.timeout",
    "client": "client.kind",
    "max_subgraph_response_bytes": "limits.subgraph_response_max_bytes",
    "max_depth": "limits.max_depth",
    "max_aliases": "limits.max_aliases",
    "max_root_fields": "limits.max_root_fields",
    "max_selections": "limits.max_selections",
    "max_validation_work": "limits.max_validation_work",
    "max_upload_bytes": "limits.http_max_request_bytes",
    "max_upload_files": "limits.max_upload_files",
    "dedup_inflight": "supergraph.deduplicate_inflight",
    "jwt_leeway": "authentication.router.jwt.leeway",
    "api_key_url": "authentication.router.api_keys.url",
    "api_key_cache": "authentication.router.api_keys.cache_for",
    "reject_unauthorized": "authorization.directives.reject_unauthorized",
    "ws_init_timeout": "subscription.init_timeout",
    "ws_keepalive": "subscription.keepalive",
    "ws_queue_size": "subscription.queue_capacity",
    "ws_max_operations": "subscription.max_opened_subscriptions_per_connection",
    "head_timeout": "limits.request_head_timeout",
    "body_timeout": "limits.request_body_timeout",
    "log_level": "telemetry.exporters.logging.level",
}


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """What the options given say, as router.yaml keys (they win over the file)."""
    overrides: dict[str, Any] = {}
    for option, key in _KEYS.items():
        _put(overrides, key, getattr(args, option))
    for name, seconds in _pairs(args.timeout).items():
        _put(overrides, f"traffic_shaping.subgraphs.{name}.timeout", seconds)
    for name, url in _pairs(args.subgraph_url).items():
        _put(overrides, f"override_subgraph_url.{name}", url)
    for name, test in _pairs(args.policy).items():
        _put(overrides, f"authorization.policies.{name}", test)
    jwt = (args.jwks_url, args.jwt_issuer, args.jwt_audience)
    if any(jwt) or args.jwt_algorithm:
        if not all(jwt):
            raise ValueError("--jwks-url, --jwt-issuer and --jwt-audience go together")
        source = {"issuer": args.jwt_issuer, "audiences": [args.jwt_audience]}
        if args.jwt_algorithm:
            source["algorithms"] = args.jwt_algorithm
        jwks = [{"url": url, **source} for url in args.jwks_url]
        _put(overrides, "authentication.router.jwt.jwks", jwks)
    return overrides


def _listen(host: str | None, port: int | None, configured: str) -> str | None:
    """`supergraph.listen` with --host and --port laid over it (None when neither is given)."""
    if host is None and port is None:
        return None
    file_host, file_port = split_listen(configured)
    host = file_host if host is None else host
    return f"[{host}]:{port or file_port}" if ":" in host else f"{host}:{port or file_port}"


def _serve(args: argparse.Namespace, extension: CliExtension | None) -> int:
    import uvicorn

    from router.server import create_app
    from router.server.runtime import connection_limits

    if args.supergraph is None:
        raise ValueError(f"--supergraph FILE (or {SUPERGRAPH_VARIABLE}) is required")
    source = ConfigSource(args.config, _overrides(args))
    config = source.load()
    listen = _listen(args.host, args.port, config.supergraph.listen)
    if listen is not None:
        source = ConfigSource(
            args.config, merge(source.overrides, {"supergraph": {"listen": listen}})
        )
        config = source.load()
    host, port = split_listen(config.supergraph.listen)
    _require_free_port(host, port)
    log_json_to_stderr(config.telemetry.exporters.logging.level)
    start_tracing(config.telemetry.exporters.tracing)
    app = create_app(
        args.supergraph.read_text(),
        config=config,
        override_labels=args.override_label,
        watch=args.supergraph if args.watch else None,
        watch_config=source if args.watch and args.config else None,
        watch_interval=args.watch_interval,
        revocations=extension.revocations(args) if extension else None,
    )
    # A stop before uvicorn serves ends start-up; one uvicorn re-raises after its graceful
    # shutdown ends the process with status 0.
    signal.signal(signal.SIGTERM, leave_on_stop_signal)
    # What start-up built (modules, schemas, plans) leaves the collector's view, and young
    # objects are collected less often (router/server/collector.py)
    settle_after_startup()
    options = {
        "ws_max_size": SubscriptionLimits.max_message_bytes,
        **uvicorn_options(connection_limits(config)),
    }
    if args.workers == 1:
        uvicorn.run(app, host=host, port=port, **options)
        return 0

    # Bound here, one per worker: a port that cannot be bound fails before any worker
    # starts, and connections queued for a worker that died wait for the one replacing it.
    sockets = [reuseport_socket(host, port) for _ in range(args.workers)]

    def serve(number: int) -> None:
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
        server.run(sockets=[sockets[number]])

    return Supervisor(args.workers, serve).run()


def _config_schema() -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def _plan(args: argparse.Namespace) -> int:
    supergraph = load_supergraph(args.supergraph.read_text())
    try:
        document = parse(args.query.read_text())
        labels = frozenset(args.override_label)
        print(print_plan(plan(supergraph, document, args.operation_name, labels=labels)))
    except (GraphQLError, PlanningError) as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str], extension: CliExtension | None = None) -> int:
    args = _parser(extension).parse_args(argv)
    commands: dict[str, Callable[[], int]] = {
        "serve": lambda: _serve(args, extension),
        "plan": lambda: _plan(args),
        "config-schema": _config_schema,
        "persisted-queries": lambda: _persisted_queries(args),
        "cache": lambda: _cache(args),
    }
    try:
        return commands[args.command]()
    except ConfigError as failure:
        if args.debug:
            raise
        for problem in failure.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except (SupergraphError, OSError, ValueError) as failure:
        if args.debug:
            raise
        if isinstance(failure, OSError) and failure.filename is not None:
            failure = OSError(f"{failure.filename}: {failure.strerror}")
        print(f"error: {failure}", file=sys.stderr)
        return 2
