"""The peer-bench results of one run as a table, with our router's ratios to each peer.

Usage: python bench/peer_table.py RESULTS.tsv   (the TSV that peer-bench's run.sh appends to)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OURS = "router"


def _cpu_ms_per_request(row: dict[str, str]) -> float:
    """The gateway's CPU time per answered request: less sensitive than req/s to other
    processes taking the gateway's core (100 % = one core for the whole run)."""
    return float(row["gw_cpu"]) * 10 / float(row["rps"]) if float(row["rps"]) else 0.0


def main(path: Path) -> int:
    with path.open() as handle:
        rows = {row["label"]: row for row in csv.DictReader(handle, delimiter="\t")}
    if not rows:
        print("no results", file=sys.stderr)
        return 1
    print(
        f"{'gateway':15} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>9} {'CPU %':>6}"
        f" {'CPU ms/req':>10} {'RSS MB':>7} {'errors':>7}"
    )
    for label, row in rows.items():
        errors = int(row["non200"]) + int(row["gql_errors"])
        print(
            f"{label:15} {float(row['rps']):8.1f} {float(row['p50_ms']):8.1f}"
            f" {float(row['p99_ms']):9.1f} {row['gw_cpu']:>6} {_cpu_ms_per_request(row):10.1f}"
            f" {row['gw_rss_mb']:>7} {errors:7d}"
        )
    print()
    for label, row in rows.items():
        mine = OURS + ("-dedup" if label.endswith("-dedup") else "")
        ours = rows.get(mine)
        if ours is None or label == mine:
            continue  # ours against each peer, and against itself on another HTTP client
        if not float(row["rps"]) or not float(row["p99_ms"]) or not float(ours["p99_ms"]):
            print(f"{mine:12} vs {label:14} no ratio: {label} answered nothing in time")
            continue
        throughput = float(ours["rps"]) / float(row["rps"])
        p99 = float(row["p99_ms"]) / float(ours["p99_ms"])
        print(
            f"{mine:12} vs {label:14} throughput x{throughput:.2f}   p99 latency x{p99:.2f} lower"
        )
    _policy_overhead(rows)
    _against_base(rows)
    return 0


def _against_base(rows: dict[str, dict[str, str]]) -> None:
    """This checkout's router rows against BASE_TREE's (`router-base*`), every dedup off
    against Apollo Gateway, and more workers against one."""
    for label, base in rows.items():
        if not label.startswith("router-base"):
            continue
        mine = rows.get("router" + label.removeprefix("router-base"))
        if mine is None or not float(mine["rps"]) or not float(base["rps"]):
            continue
        cpu = _cpu_ms_per_request(base) / _cpu_ms_per_request(mine)
        throughput = float(mine["rps"]) / float(base["rps"])
        print(
            f"{mine['label']:12} vs {label:14} throughput x{throughput:.2f}"
            f"   CPU per request x{cpu:.2f} less"
        )
    bare, apollo = rows.get("router-bare"), rows.get("apollo")
    if bare is not None and apollo is not None and float(apollo["rps"]):
        ratio = float(bare["rps"]) / float(apollo["rps"])
        print(f"router-bare  vs apollo         throughput x{ratio:.2f}")
    one = rows.get("router")
    for label, row in rows.items():
        if label.startswith("router-w") and one is not None and float(one["rps"]):
            ratio = float(row["rps"]) / float(one["rps"])
            print(f"{label:12} vs router         throughput x{ratio:.2f}")


def _policy_overhead(rows: dict[str, dict[str, str]]) -> None:
    """Every traffic policy on against none (bench/configs/*.yaml): without subgraph
    deduplication on either side (the policies' own cost), and with it on both sides
    (`router`, the defaults, deduplicates too)."""
    pairs = (("router-policies-nodedup", "router-bare"), ("router-policies", "router"))
    for policies, baseline in pairs:
        full, bare = rows.get(policies), rows.get(baseline)
        if full is None or bare is None or not float(bare["rps"]) or not float(full["rps"]):
            continue
        throughput = 1 - float(full["rps"]) / float(bare["rps"])
        cpu = _cpu_ms_per_request(full) / _cpu_ms_per_request(bare) - 1
        print(
            f"policies overhead: throughput {throughput:+.1%} lower, CPU per request"
            f" {cpu:+.1%} ({policies} against {baseline})"
        )


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
