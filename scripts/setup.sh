#!/usr/bin/env bash
# Set up this machine for development and tests; safe to run again (quick when all is done).
#  1. System packages: PostgreSQL 15, Redis and RabbitMQ binaries (the project runs its own
#     servers from them, so the services the packages would start are stopped and disabled),
#     and Python >= 3.11 with venv. Installed with apt-get on Debian/Ubuntu as root or with
#     sudo; elsewhere this prints what to install.
#  2. .venv with the project, its dev tools and the `ai` extra (paraphrase detection's model
#     and PyTorch's CPU build, ~1.3 GB), reinstalled only when pyproject.toml or
#     constraints.txt changed since the last install; and the `analytics` extra (scikit-learn,
#     which trains the at-risk model).
#  3. Node.js and npm (apt-get when absent), the pinned GraphiQL bundles every service serves
#     (graphiql_assets) and the differential tests' oracle (Apollo Gateway,
#     tests/differential/oracle), each npm ci'd only when its lock file changed.
#  4. Chromium (apt-get when absent), which the browser tests drive headless (tests/browser).
#  5. Prometheus with promtool (apt-get when absent), which `lms dev --with-monitoring` and the
#     monitoring tests run (its own system service stopped and disabled like the others).
#  6. xmlsec1 (apt-get when absent), which pysaml2 runs to sign and verify SAML messages.
#  7. bubblewrap (apt-get when absent): the grader's sandbox (`lms grader`) and its tests.
#  8. The router's hot modules compiled with mypyc (`python -m router.native build`, ~25 s),
#     again only when their sources changed; without a C compiler the router runs them as
#     pure Python (one line says so) and setup goes on.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null && python_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

has_postgres_15() {
    local initdb
    for initdb in /usr/lib/postgresql/15/bin/initdb "$(command -v initdb || true)"; do
        if [[ -x "$initdb" ]] && "$initdb" --version 2>/dev/null | grep -q ' 15\.'; then
            return 0
        fi
    done
    return 1
}

has_rabbitmq() { [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || command -v rabbitmq-server >/dev/null; }

missing_packages() {
    command -v redis-server >/dev/null || echo redis-server
    has_rabbitmq || echo rabbitmq-server
    has_postgres_15 || echo postgresql-15
    find_python >/dev/null || echo python3 python3-venv
    command -v node >/dev/null || echo nodejs
    command -v npm >/dev/null || echo npm
    command -v chromium >/dev/null || echo chromium
    command -v promtool >/dev/null || echo prometheus
    command -v xmlsec1 >/dev/null || echo xmlsec1  # SAML signatures (pysaml2 runs it)
    command -v bwrap >/dev/null || echo bubblewrap
}

# The services apt's postinst scripts start would hold the default ports; ours run on their
# own, so stop and disable them. Only called right after this script installed packages.
quiet_services() {
    local service
    for service in redis-server rabbitmq-server postgresql prometheus; do
        if [[ -d /run/systemd/system ]]; then
            $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
        else
            $SUDO service "$service" stop >/dev/null 2>&1 || true
            $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
        fi
    done
    # The system broker's beam and epmd run as the rabbitmq user; ours run as us.
    local pids
    pids=$(pgrep -u rabbitmq 2>/dev/null || true)
    if [[ -n "$pids" ]]; then
        # shellcheck disable=SC2086
        $SUDO kill $pids 2>/dev/null || true
    fi
}

install_packages() {
    local packages=("$@") policy=/usr/sbin/policy-rc.d created_policy=""
    say "installing ${packages[*]}"
    # Keep postinst scripts from starting services at all (removed again below).
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        created_policy=1
    fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/dev/null
    [[ -z "$created_policy" ]] || $SUDO rm -f "$policy"
    quiet_services
}

mapfile -t packages < <(missing_packages | tr ' ' '\n')
if ((${#packages[@]})); then
    if [[ $EUID -eq 0 ]]; then
        SUDO=""
    elif command -v sudo >/dev/null; then
        SUDO="sudo"
    else
        SUDO="none"
    fi
    if command -v apt-get >/dev/null && [[ "$SUDO" != none ]]; then
        install_packages "${packages[@]}"
    else
        say "missing system packages: ${packages[*]}"
        say "install them with your package manager (as root), e.g. on macOS:"
        say "  brew install postgresql@15 redis rabbitmq python@3.12 node chromium prometheus"
        say "the servers are found on PATH or in /usr/lib/postgresql/*/bin, /usr/lib/rabbitmq/bin"
        exit 1
    fi
fi

if [[ ! -x .venv/bin/python ]]; then
    python=$(find_python) || {
        say "Python >= 3.11 with venv is required"
        exit 1
    }
    say "creating .venv with $python"
    "$python" -m venv .venv
fi

stamp=.venv/.setup-stamp
wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
    say "installing the project into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench,ai,analytics]'
    echo "$wanted" >"$stamp"
fi

if [[ "$(LMS_ROUTER_NATIVE=1 .venv/bin/python -m router.native status)" != native ]]; then
    .venv/bin/python -m router.native build || true
fi

node_major=$(node --version | sed -E 's/^v([0-9]+).*/\1/')
if ((node_major < 20)); then
    say "Node.js $(node --version) is too old for GraphiQL's bundles and the differential tests' oracle: install 20 or later"
    exit 1
fi

# npm ci in a folder, only when its package.json or lock changed since the last time.
npm_packages() {
    local folder=$1 what=$2 stamp wanted
    stamp=$folder/node_modules/.setup-stamp
    wanted=$(cat "$folder/package.json" "$folder/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
        say "installing $what (npm ci in $folder)"
        (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$wanted" >"$stamp"
    fi
}
npm_packages graphiql_assets "GraphiQL's browser bundles"
npm_packages tests/differential/oracle "the differential tests' oracle"
