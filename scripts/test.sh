#!/usr/bin/env bash
# Set up everything the tests need, then run every gate and every test, measuring coverage.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
# Coverage of router, common, subgraphs and lms ([tool.coverage] in pyproject.toml), in this
# process and in the Python processes the tests start; a figure, with no threshold.
export COVERAGE_FILE="$PWD/.state/coverage/.coverage"
mkdir -p "$(dirname "$COVERAGE_FILE")"
rm -f "$COVERAGE_FILE" "$COVERAGE_FILE".*
status=0
.venv/bin/coverage run -m pytest -p no:cacheprovider "$@" || status=$?
.venv/bin/coverage combine -q
.venv/bin/coverage json -q -o "$PWD/.state/coverage/coverage.json"
.venv/bin/python scripts/coverage_summary.py "$PWD/.state/coverage/coverage.json"
exit "$status"
