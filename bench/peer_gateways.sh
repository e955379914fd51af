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
# "router-tracing-off" / "-1" / "-100": our router with tracing off / sampling 1% / 100%,
# exporting to a Zipkin sink this script starts (bench/zipkin_sink.py: counts, discards).
# "router-bare" / "router-policies": our router with every traffic policy off
# (bench/configs/bare.yaml) / on (bench/configs/policies.yaml: CORS, rate limits and APQ in
# a Redis this script starts, demand control, breakers, retries, bulkheads, subgraph
# deduplication, access log). "grafbase": the Grafbase CLI's gateway (Rust; its binary is
# fetched once from npm, run in a loopback-only network namespace: needs root for unshare).
# "hive-rust": Hive Gateway with its Rust query-planner runtime (--hive-router-runtime).
# "router-wN": our router with --workers N, on both cores (wrk and the subgraphs share
# core 0 with it: this machine has no other). "router-base", "router-base-bare",
# "router-base-wN": the same rows with the router of another checkout, BASE_TREE (a
# worktree of the commit to compare with), for ratios measured in the same run.
# Needs: node >= 20 and npm (registry access once), wrk and jq (apt-get when missing).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEER_BENCH="${PEER_BENCH:-$ROOT/../shared/peer-bench}"
RIG="${RIG:-/tmp/peer-bench}"
export DURATION="${DURATION:-20}" WARMUP="${WARMUP:-15}"
GATEWAYS="${GATEWAYS:-router apollo hive router-dedup hive-dedup}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
BASE_TREE="${BASE_TREE:-}"

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
cleanup() {
  [[ -n "${REDIS_PID:-}" ]] && kill "$REDIS_PID" 2>/dev/null
  [[ -n "${ZIPKIN_PID:-}" ]] && kill "$ZIPKIN_PID" 2>/dev/null && wait "$ZIPKIN_PID"
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# The policies' rate limits and APQ cache live in a Redis of this run's own (local binary).
needs_redis=""
for gateway in $GATEWAYS; do
  config="$ROOT/bench/configs/${gateway#router-}.yaml"
  [[ "$gateway" == router-* && -f "$config" ]] && grep -q BENCH_REDIS_URL "$config" && needs_redis=1
done
if [[ -n "$needs_redis" ]]; then
  command -v redis-server >/dev/null || { echo "install redis-server (bash scripts/setup.sh)" >&2; exit 1; }
  redis_port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$SCRATCH" --logfile "$SCRATCH/redis.log" &
  REDIS_PID=$!
  export BENCH_REDIS_URL="redis://127.0.0.1:$redis_port/0"
fi
# The tracing configs export to a Zipkin sink of this run's own, which counts and discards.
if grep -qs BENCH_ZIPKIN_URL $(for g in $GATEWAYS; do echo "$ROOT/bench/configs/${g#router-}.yaml"; done); then
  zipkin_port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$PYTHON" "$ROOT/bench/zipkin_sink.py" "$zipkin_port" &
  ZIPKIN_PID=$!
  export BENCH_ZIPKIN_URL="http://127.0.0.1:$zipkin_port/api/v2/spans"
fi
# grafbase: the CLI's binary from npm, once (the package the rig's README names).
if [[ " $GATEWAYS " == *" grafbase "* && ! -x "$RIG/bin/grafbase" ]]; then
  (cd "$SCRATCH" && npm pack --silent @grafbase/cli-x86_64-unknown-linux-musl@0.103.0 >/dev/null \
    && tar xzf grafbase-cli-x86_64-unknown-linux-musl-0.103.0.tgz \
    && mkdir -p "$RIG/bin" && cp package/grafbase "$RIG/bin/")
fi

SERVE="-m router serve --supergraph \$SUPERGRAPH --port \$PORT --no-watch --log-level WARNING"
HG='node_modules/.bin/hive-gateway supergraph $SUPERGRAPH -p $PORT -h 127.0.0.1 --fork 1'
for gateway in $GATEWAYS; do
  # the router of this checkout, or of BASE_TREE for router-base rows (named as the others)
  gateway_row="$gateway"
  ROUTER="env PYTHONPATH=$ROOT $PYTHON $SERVE"
  if [[ "$gateway" == router-base* ]]; then
    [[ -d "$BASE_TREE/router" ]] || { echo "$gateway needs BASE_TREE=<a checkout>" >&2; exit 1; }
    ROUTER="env PYTHONPATH=$BASE_TREE $PYTHON $SERVE"
    gateway="router${gateway#router-base}"
  fi
  export GW_CPUS=1
  case "$gateway" in
    router) cmd="$ROUTER" ;;
    router-dedup) cmd="$ROUTER --dedup-inflight" ;;
    router-w[0-9]*) cmd="$ROUTER --workers ${gateway#router-w}"; GW_CPUS=0,1 ;;
    router-httpx|router-aiohttp) cmd="$ROUTER --client ${gateway#router-}" ;;
    router-*) # router-NAME: our router with bench/configs/NAME.yaml (bare, policies)
      config="$ROOT/bench/configs/${gateway#router-}.yaml"
      [[ -f "$config" ]] || { echo "unknown gateway $gateway (no $config)" >&2; exit 1; }
      cmd="$ROUTER --config $config" ;;
    grafbase) cmd="" ;;  # run below, in its own network namespace
    apollo) cmd='node gateways/apollo-gateway.mjs' ;;
    hive) cmd="$HG --jit -c gateways/hive/gateway.nodedup.mjs" ;;
    hive-dedup) cmd="$HG --jit -c gateways/hive/gateway.config.mjs" ;;
    hive-rust) cmd="$HG --hive-router-runtime -c gateways/hive/gateway.nodedup.mjs" ;;
    *) echo "unknown gateway $gateway" >&2; exit 1 ;;
  esac
  if [[ "$gateway" == grafbase ]]; then
    (cd "$RIG" && unshare -n bash -c "ip link set lo up; exec ./run.sh gateways/grafbase/run-dev.sh grafbase") \
      | grep -E '^(CHECK|==|RPS|CPU)'
  else
    (cd "$RIG" && ./run.sh "$cmd" "$gateway_row") | grep -E '^(CHECK|==|RPS|CPU)'
  fi
done

echo
"$PYTHON" "$ROOT/bench/peer_table.py" "$RESULTS"
