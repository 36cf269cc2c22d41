#!/usr/bin/env bash
# Install what the project needs into .venv, on a machine that may have nothing but Python.
set -euo pipefail
cd "$(dirname "$0")/.."

export UV_PYTHON_DOWNLOADS=never
if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check uv \
        || python3 -m pip install --quiet --break-system-packages uv
fi
uv sync --frozen --quiet
