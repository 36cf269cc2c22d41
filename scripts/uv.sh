# Sourced by bootstrap.sh and checkov.sh: `uv` below is the pinned version, whatever uv the
# machine has. An older uv cannot read this uv.lock, and a newer one may rewrite it.
UV_VERSION=0.13.9
# The project's own copy when the machine's uv is another version (or missing).
UV_HOME=.tools/uv-$UV_VERSION
export UV_PYTHON_DOWNLOADS=never

_uv_is_pinned() { "$@" --version 2>/dev/null | grep -q "^uv $UV_VERSION\b"; }

_uv_install() {
    if ! python3 -m pip --version >/dev/null 2>&1; then
        # Debian's python3 comes without pip; ensurepip may be stripped too.
        python3 -m ensurepip --upgrade >/dev/null 2>&1 || {
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq && apt-get install -y -qq python3-pip python3-venv >/dev/null
        }
    fi
    echo "uv: installing $UV_VERSION into $UV_HOME" >&2
    rm -rf "$UV_HOME"
    python3 -m pip install --quiet --disable-pip-version-check --target "$UV_HOME" \
        "uv==$UV_VERSION" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
            --target "$UV_HOME" "uv==$UV_VERSION"
}

if _uv_is_pinned command uv; then
    UV=(command uv)
else
    _uv_is_pinned "$UV_HOME/bin/uv" || _uv_install
    UV=("$UV_HOME/bin/uv")
    _uv_is_pinned "${UV[@]}" || { echo "uv: $UV_HOME/bin/uv is not uv $UV_VERSION" >&2; exit 2; }
fi
uv() { "${UV[@]}" "$@"; }
