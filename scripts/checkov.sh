#!/usr/bin/env bash
# checkov on terraform/, from its own virtualenv (.venv-checkov): checkov's hcl2 module conflicts
# with the one tfcheck uses, so neither shares the project's .venv. Offline: no platform download.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION=3.3.30
VENV=.venv-checkov

# uv at the pinned version (the machine's, or the project's own copy that bootstrap.sh made).
source scripts/uv.sh

if [ "$(cat "$VENV/.version" 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
    echo "checkov: installing $CHECKOV_VERSION into $VENV" >&2
    rm -rf "$VENV"
    uv venv --quiet --python "$(command -v python3.11 || command -v python3)" "$VENV"
    uv pip install --quiet --python "$VENV/bin/python" "checkov==$CHECKOV_VERSION"
    echo "$CHECKOV_VERSION" >"$VENV/.version"
fi
BC_SKIP_MAPPING=TRUE exec "$VENV/bin/checkov" -d terraform --framework terraform \
    --quiet --compact --skip-download "$@"
