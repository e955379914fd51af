"""Line coverage per package from `coverage json`: the summary scripts/test.sh prints last.

Usage: python scripts/coverage_summary.py coverage.json

One line per top-level package (router, common, lms) and per subgraph, then all subgraphs
together and the total; files never imported count with every line missed.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path, PurePosixPath

Counts = tuple[int, int]  # statements, covered


def package_of(path: str) -> str:
    """`router/server/app.py` → `router`; `subgraphs/users/mfa.py` → `subgraphs/users`."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if parts[0] == "subgraphs" and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0]


def per_package(report: dict[str, object]) -> dict[str, Counts]:
    files = report["files"]
    assert isinstance(files, dict)
    totals: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, measured in files.items():
        summary = measured["summary"]
        counts = totals[package_of(path)]
        counts[0] += int(summary["num_statements"])
        counts[1] += int(summary["covered_lines"])
    return {name: (statements, covered) for name, (statements, covered) in totals.items()}


def percent(counts: Counts) -> str:
    statements, covered = counts
    return f"{100 * covered / statements:5.1f}%" if statements else "    -"


def table(packages: dict[str, Counts]) -> list[str]:
    subgraphs = [counts for name, counts in packages.items() if name.startswith("subgraphs/")]
    rows = sorted((name, counts) for name, counts in packages.items() if counts[0])
    if subgraphs:
        together = (sum(c[0] for c in subgraphs), sum(c[1] for c in subgraphs))
        rows.append(("subgraphs (all)", together))
    total = (sum(c[0] for c in packages.values()), sum(c[1] for c in packages.values()))
    rows.append(("TOTAL", total))
    width = max(len(name) for name, _ in rows)
    lines = [f"{'package':<{width}}  statements  covered  cover"]
    lines += [f"{name:<{width}}  {s:>10}  {c:>7}  {percent((s, c))}" for name, (s, c) in rows]
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: coverage_summary.py coverage.json", file=sys.stderr)
        return 2
    try:
        report = json.loads(Path(argv[0]).read_text())
    except (OSError, ValueError) as error:
        print(f"error: cannot read {argv[0]}: {error}", file=sys.stderr)
        return 2
    print("\n".join(table(per_package(report))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
