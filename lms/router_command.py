"""`lms router …`: the standalone router with the platform plugged in.

The router knows no identity provider; the platform adds `--revocations-redis URL` to
`router serve` (by default the platform's Redis, `LMS_REDIS_URL`, where the users subgraph
writes them), so the tokens of sessions the users subgraph ended (common/auth/revocations.py)
are refused at once.
"""

import argparse
import os

from common.auth.revocations import RevocationList
from router.cli import CliExtension
from router.cli import main as router_main
from router.policies.revocations import Revocations


def _add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--revocations-redis",
        default=os.environ.get("LMS_REDIS_URL") or None,
        metavar="URL",
        help="Redis where the users subgraph lists users whose tokens ended early "
        "(signed out everywhere, deleted...): their tokens are refused at once; default: "
        "$LMS_REDIS_URL (none when unset)",
    )


def _revocations(args: argparse.Namespace) -> Revocations | None:
    url: str | None = args.revocations_redis
    return RevocationList.from_url(url) if url else None


PLATFORM = CliExtension(_add_arguments, _revocations)


def main(argv: list[str]) -> int:
    return router_main(argv, PLATFORM)
