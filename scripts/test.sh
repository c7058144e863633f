#!/usr/bin/env bash
# Install the hub with its test extras into .venv and run the whole suite: lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q -U pip
.venv/bin/pip install -q -e '.[test]'
.venv/bin/ruff check hub workers sinks tests bench
.venv/bin/mypy
.venv/bin/pytest -q "$@"
