#!/usr/bin/env bash
# Install what the project needs into .venv, on a machine that may have nothing but Python 3.11+.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
export UV_PYTHON_DOWNLOADS=never

have_pip() { python3 -m pip --version >/dev/null 2>&1; }

if ! command -v uv >/dev/null 2>&1; then
    if ! have_pip; then
        # Debian's python3 comes without pip; ensurepip may be stripped too.
        python3 -m ensurepip --upgrade >/dev/null 2>&1 || {
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq && apt-get install -y -qq python3-pip python3-venv >/dev/null
        }
    fi
    python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" \
        || python3 -m pip install --quiet --break-system-packages "uv==$UV_VERSION"
    # pip may have put uv in a bin directory that is not on PATH (e.g. ~/.local/bin).
    PATH="$PATH:$(python3 -m site --user-base)/bin"
fi
uv sync --frozen --quiet
