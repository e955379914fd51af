"""`python -m router.composition --subgraph NAME URL SDL_FILE ... [--out FILE]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .api import compose
from .subgraph import SubgraphInput


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m router.composition")
    parser.add_argument(
        "--subgraph",
        nargs=3,
        action="append",
        required=True,
        metavar=("NAME", "URL", "SDL_FILE"),
        help="a subgraph: its name, its routing URL and the file holding its SDL",
    )
    parser.add_argument("--out", type=Path, help="write the supergraph here (default: stdout)")
    args = parser.parse_args(argv)
    inputs = [SubgraphInput(name, url, Path(path).read_text()) for name, url, path in args.subgraph]
    result = compose(inputs)
    if result.supergraph_sdl is None:
        for error in result.errors:
            print(error, file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(result.supergraph_sdl + "\n")
    else:
        args.out.write_text(result.supergraph_sdl)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
