#!/usr/bin/env bash
# The public gateways benchmark (graphql-hive/graphql-gateways-benchmark, replayed by
# ../shared/peer-bench): four Node subgraphs, one 87.6 KB query, wrk with 50 connections.
# Our router and the peer gateways run one after another in the same run, each pinned to
# one core (wrk and the subgraphs on the other), and the table ends with our ratios.
#
# Usage: bash bench/peer_gateways.sh            (about 4 minutes)
# Env:   DURATION=20 WARMUP=15 (seconds, per gateway)  RIG=/tmp/peer-bench (scratch copy)
#        PEER_BENCH=../shared/peer-bench  GATEWAYS="router apollo hive router-dedup hive-dedup"
# "-dedup": identical requests in flight share one execution (ours: --dedup-inflight; Hive's
# inbound deduplication plugin). The main comparison is without it, as the benchmark runs.
# "router-httpx", "router-aiohttp": our router with that library as its subgraph client
# (--client; aiohttp needs the `bench` extra) instead of the hand-written one.
# Needs: node >= 20 and npm (registry access once), wrk and jq (apt-get when missing).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEER_BENCH="${PEER_BENCH:-$ROOT/../shared/peer-bench}"
RIG="${RIG:-/tmp/peer-bench}"
export DURATION="${DURATION:-20}" WARMUP="${WARMUP:-15}"
GATEWAYS="${GATEWAYS:-router apollo hive router-dedup hive-dedup}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"

[[ -d "$PEER_BENCH" ]] || { echo "no peer-bench at $PEER_BENCH (set PEER_BENCH)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "run bash scripts/setup.sh first" >&2; exit 1; }
command -v node >/dev/null || { echo "install Node.js >= 20 and npm" >&2; exit 1; }
missing=()
for tool in wrk jq bc curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  else
    echo "install: ${missing[*]}" >&2; exit 1
  fi
fi

# The rig is copied out (the shared folder stays read-only) and its packages installed once.
if [[ ! -d "$RIG/node_modules" ]]; then
  mkdir -p "$RIG" && cp -r "$PEER_BENCH"/. "$RIG"/
  (cd "$RIG" && npm install --no-audit --no-fund --loglevel=error)
fi
SCRATCH="$(mktemp -d)"
export RESULTS="$SCRATCH/results.tsv"

HG='node_modules/.bin/hive-gateway supergraph $SUPERGRAPH -p $PORT -h 127.0.0.1 --fork 1 --jit'
for gateway in $GATEWAYS; do
  case "$gateway" in
    router) cmd="$PYTHON -m router serve --supergraph \$SUPERGRAPH --port \$PORT --no-watch --log-level WARNING" ;;
    router-dedup) cmd="$PYTHON -m router serve --supergraph \$SUPERGRAPH --port \$PORT --no-watch --log-level WARNING --dedup-inflight" ;;
    router-httpx|router-aiohttp) cmd="$PYTHON -m router serve --supergraph \$SUPERGRAPH --port \$PORT --no-watch --log-level WARNING --client ${gateway#router-}" ;;
    apollo) cmd='node gateways/apollo-gateway.mjs' ;;
    hive) cmd="$HG -c gateways/hive/gateway.nodedup.mjs" ;;
    hive-dedup) cmd="$HG -c gateways/hive/gateway.config.mjs" ;;
    *) echo "unknown gateway $gateway" >&2; exit 1 ;;
  esac
  (cd "$RIG" && ./run.sh "$cmd" "$gateway") | grep -E '^(CHECK|==|RPS|CPU)'
done

echo
"$PYTHON" "$ROOT/bench/peer_table.py" "$RESULTS"
rm -rf "$SCRATCH"
