"""The peer-bench results of one run as a table, with our router's ratios to each peer.

Usage: python bench/peer_table.py RESULTS.tsv   (the TSV that peer-bench's run.sh appends to)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OURS = "router"


def main(path: Path) -> int:
    with path.open() as handle:
        rows = {row["label"]: row for row in csv.DictReader(handle, delimiter="\t")}
    if not rows:
        print("no results", file=sys.stderr)
        return 1
    print(
        f"{'gateway':12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>9} {'CPU %':>6} {'RSS MB':>7}"
        f" {'errors':>7}"
    )
    for label, row in rows.items():
        errors = int(row["non200"]) + int(row["gql_errors"])
        print(
            f"{label:12} {float(row['rps']):8.1f} {float(row['p50_ms']):8.1f}"
            f" {float(row['p99_ms']):9.1f} {row['gw_cpu']:>6} {row['gw_rss_mb']:>7} {errors:7d}"
        )
    print()
    for label, row in rows.items():
        ours = rows.get(OURS + "-dedup" if label.endswith("-dedup") else OURS)
        if ours is None or label.startswith(OURS):
            continue
        throughput = float(ours["rps"]) / float(row["rps"])
        p99 = float(row["p99_ms"]) / float(ours["p99_ms"])
        mine = OURS + ("-dedup" if label.endswith("-dedup") else "")
        print(
            f"{mine:12} vs {label:11} throughput x{throughput:.2f}   p99 latency x{p99:.2f} lower"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
