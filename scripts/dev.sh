#!/usr/bin/env bash
# Set up, then run the whole platform on this machine until Ctrl-C (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/lms dev
