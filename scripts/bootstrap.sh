#!/usr/bin/env bash
# Install what the project needs into .venv, on a machine that may have nothing but Python 3.11+.
set -euo pipefail
cd "$(dirname "$0")/.."

# uv at the pinned version: the machine's when it is that version, else the project's own.
source scripts/uv.sh
uv sync --frozen --quiet
