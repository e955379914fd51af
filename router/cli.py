"""`serve` and `plan` subcommands; `python -m router` serves.

A program embedding the router (the platform's `lms router`) passes a `CliExtension`: its
own options for `serve`, and the revocation list they make.
"""

import argparse
import gc
import json
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLError, parse

from router.gateway.limits import Limits
from router.logs import log_json_to_stderr
from router.planning import PlanningError, plan, print_plan
from router.policies.api_keys import ApiKeyConfig
from router.policies.authentication import JwtConfig
from router.policies.authorization import AuthorizationConfig, ClaimPolicies
from router.policies.manifest import manifest_from_folder
from router.policies.revocations import Revocations
from router.server.http_protocol import ConnectionLimits, uvicorn_options
from router.server.uploads import UploadLimits
from router.subscriptions.limits import SubscriptionLimits
from router.supergraph import SupergraphError, load_supergraph
from router.transport.base import DEFAULT_MAX_RESPONSE_BYTES

DEBUG_HELP = "on an error, show its traceback instead of one line"
MAX_PORT = 65535


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{port} is not a port (1-{MAX_PORT})")
    return port


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _require_free_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as failure:
            raise ValueError(
                f"cannot listen on {host}:{port} (--port): {failure.strerror}"
            ) from None


@dataclass(frozen=True, slots=True)
class CliExtension:
    add_arguments: Callable[[argparse._ArgumentGroup], None]  # to serve's authentication group
    revocations: Callable[[argparse.Namespace], Revocations | None]


def _parser(extension: CliExtension | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="router",
        description="Apollo Federation v2 router: serve a supergraph, or print a query plan.",
        epilog="Exit status: 2 for a bad argument, supergraph or port (one line; --debug "
        "shows the traceback).",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve a supergraph over HTTP",
        description="Serve a supergraph over HTTP.",
        usage="%(prog)s --supergraph FILE [options]",
    )
    serve.add_argument(
        "--supergraph", required=True, type=Path, help="the supergraph SDL file (composed)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=4000, help="port to listen on (1-65535)")
    serve.add_argument(
        "--subgraph-timeout",
        type=_positive_float,
        default=30.0,
        help="seconds a subgraph has to answer",
    )
    serve.add_argument(
        "--timeout",
        action="append",
        default=[],
        metavar="SUBGRAPH=SECONDS",
        help="a per-subgraph timeout; repeatable",
    )
    serve.add_argument(
        "--client",
        choices=["streams", "httpx", "aiohttp"],
        default="streams",
        help="HTTP client for subgraph calls (streams: lean asyncio keep-alive client; "
        "aiohttp needs the `bench` extra)",
    )
    serve.add_argument(
        "--max-subgraph-response-bytes",
        type=int,
        default=DEFAULT_MAX_RESPONSE_BYTES,
        help="largest subgraph answer read; a longer one is an error for that fetch",
    )
    serve.add_argument(
        "--subgraph-url",
        action="append",
        default=[],
        metavar="SUBGRAPH=URL",
        help="override a subgraph URL from the supergraph; repeatable",
    )
    serve.add_argument(
        "--no-watch",
        dest="watch",
        action="store_false",
        help="do not reload the supergraph file when it changes",
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
        help="seconds between checks of the supergraph file",
    )
    serve.add_argument(
        "--max-depth", type=int, default=Limits.max_depth, help="deepest nesting of fields"
    )
    serve.add_argument(
        "--max-aliases", type=int, default=Limits.max_aliases, help="aliases per operation"
    )
    serve.add_argument(
        "--max-root-fields",
        type=int,
        default=Limits.max_root_fields,
        help="fields at the root of an operation",
    )
    serve.add_argument(
        "--max-selections",
        type=int,
        default=Limits.max_selections,
        help="selections once every fragment spread is expanded (repeats counted)",
    )
    serve.add_argument(
        "--max-validation-work",
        type=int,
        default=Limits.max_validation_work,
        help="comparisons validation may make between same-named fields",
    )
    serve.add_argument(
        "--max-upload-bytes",
        type=int,
        default=UploadLimits.max_bytes,
        help="largest multipart (file upload) request body, files included",
    )
    serve.add_argument(
        "--max-upload-files", type=int, default=UploadLimits.max_files, help="files per request"
    )
    serve.add_argument(
        "--dedup-inflight",
        action="store_true",
        help="identical queries in flight with the same credentials share one execution",
    )
    auth = serve.add_argument_group("authentication (bearer access tokens, JWT)")
    auth.add_argument(
        "--jwks-url",
        action="append",
        default=[],
        help="where the signing keys are published; repeatable",
    )
    auth.add_argument("--jwt-issuer", default=None, help="the iss tokens must carry")
    auth.add_argument("--jwt-audience", default=None, help="the aud tokens must carry")
    auth.add_argument("--jwt-leeway", type=int, default=30, help="seconds of clock skew allowed")
    auth.add_argument(
        "--jwt-algorithm",
        action="append",
        default=[],
        metavar="ALG",
        help="a signing algorithm accepted (RS256 when none is named; asymmetric only); repeatable",
    )
    if extension is not None:
        extension.add_arguments(auth)
    auth.add_argument(
        "--api-key-url",
        default=None,
        help="where an X-API-Key is traded for an access token (needs --jwks-url)",
    )
    auth.add_argument(
        "--api-key-cache",
        type=float,
        default=60.0,
        help="seconds a traded API key is remembered (how long a revoked key lingers)",
    )
    authz = serve.add_argument_group("authorization (@authenticated, @requiresScopes, @policy)")
    authz.add_argument(
        "--reject-unauthorized",
        action="store_true",
        help="refuse a whole operation that asks for anything the caller may not read "
        "(default: those fields come back null, each with an error)",
    )
    authz.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="NAME=CLAIM:VALUE",
        help="a @policy name that holds when the token's CLAIM is or contains VALUE "
        "(repeatable); a policy named CLAIM:VALUE needs no entry, any other is denied",
    )
    ws = serve.add_argument_group("subscriptions (WebSocket at /graphql)")
    ws.add_argument(
        "--ws-init-timeout",
        type=_positive_float,
        default=SubscriptionLimits.init_timeout,
        help="seconds a client has to send connection_init",
    )
    ws.add_argument(
        "--ws-keepalive",
        type=float,
        default=SubscriptionLimits.keepalive,
        help="seconds between the router's pings",
    )
    ws.add_argument(
        "--ws-queue-size",
        type=int,
        default=SubscriptionLimits.queue_size,
        help="messages waiting for a client before it is disconnected as too slow",
    )
    ws.add_argument(
        "--ws-max-operations",
        type=int,
        default=SubscriptionLimits.max_operations,
        help="operations at once on one connection",
    )
    slow = serve.add_argument_group("slow clients (slowloris)")
    slow.add_argument(
        "--head-timeout",
        type=float,
        default=ConnectionLimits.head_timeout,
        help="seconds a client has to send a request's head (408 and close after)",
    )
    slow.add_argument(
        "--body-timeout",
        type=float,
        default=ConnectionLimits.body_timeout,
        help="seconds a client has to send a request's body once its head arrived",
    )
    serve.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="least severe log records written (JSON on stderr)",
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
    return parser


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


def _pairs(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator:
            raise ValueError(f"expected NAME=VALUE, got {item!r}")
        pairs[name] = value
    return pairs


def _serve(args: argparse.Namespace, extension: CliExtension | None) -> int:
    import uvicorn

    from router.server import create_app

    _require_free_port(args.host, args.port)
    log_json_to_stderr(args.log_level)
    timeouts = {name: float(value) for name, value in _pairs(args.timeout).items()}
    jwt = (args.jwks_url, args.jwt_issuer, args.jwt_audience)
    if any(jwt) and not all(jwt):
        raise ValueError("--jwks-url, --jwt-issuer and --jwt-audience go together")
    app = create_app(
        args.supergraph.read_text(),
        _pairs(args.subgraph_url),
        subgraph_timeout=args.subgraph_timeout,
        subgraph_timeouts=timeouts,
        client=args.client,
        max_subgraph_response_bytes=args.max_subgraph_response_bytes,
        limits=Limits(
            args.max_depth,
            args.max_aliases,
            args.max_root_fields,
            args.max_selections,
            args.max_validation_work,
        ),
        uploads=UploadLimits(args.max_upload_bytes, args.max_upload_files),
        deduplicate=args.dedup_inflight,
        override_labels=args.override_label,
        watch=args.supergraph if args.watch else None,
        watch_interval=args.watch_interval,
        authentication=(
            JwtConfig(
                tuple(args.jwks_url),
                args.jwt_issuer,
                args.jwt_audience,
                args.jwt_leeway,
                algorithms=tuple(args.jwt_algorithm or ["RS256"]),
                revocations=extension.revocations(args) if extension else None,
            )
            if all(jwt)
            else None
        ),
        api_keys=ApiKeyConfig(args.api_key_url, args.api_key_cache) if args.api_key_url else None,
        authorization=AuthorizationConfig(
            reject_unauthorized=args.reject_unauthorized,
            policies=ClaimPolicies(_pairs(args.policy)),
        ),
        subscriptions=SubscriptionLimits(
            init_timeout=args.ws_init_timeout,
            keepalive=args.ws_keepalive,
            queue_size=args.ws_queue_size,
            max_operations=args.ws_max_operations,
        ),
    )
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the previous handler;
    # a no-op handler there turns a requested stop into a clean exit status.
    signal.signal(signal.SIGTERM, lambda *_: None)
    # What start-up built (modules, schemas, plans) leaves the collector's view: full
    # collections then walk only what requests and subscriptions create (shorter pauses).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ws_max_size=SubscriptionLimits.max_message_bytes,
        **uvicorn_options(ConnectionLimits(args.head_timeout, args.body_timeout)),
    )
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
    try:
        if args.command == "persisted-queries":
            return _persisted_queries(args)
        return _serve(args, extension) if args.command == "serve" else _plan(args)
    except (SupergraphError, OSError, ValueError) as failure:
        if args.debug:
            raise
        if isinstance(failure, OSError) and failure.filename is not None:
            failure = OSError(f"{failure.filename}: {failure.strerror}")
        print(f"error: {failure}", file=sys.stderr)
        return 2
