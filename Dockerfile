# syntax=docker/dockerfile:1
# The image ECS runs: `event-data serve` (receiver, loader and query API on one port).
# Two stages in the uv model: the locked dependencies are installed before the source is copied,
# so a code change rebuilds only the last layer. The base image is a build argument: a pipeline
# with a registry passes e.g. python:3.12-slim-bookworm; `make image` passes a local Debian base.
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG UV_VERSION=0.13.9
# Bytecode is compiled here because the running container's root filesystem is read-only.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_NATIVE_TLS=1
WORKDIR /app
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --no-install-project
COPY service ./service
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --no-editable

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="event-data" \
      org.opencontainers.image.description="Long-term, searchable database of SparkPost events"
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
# Owned by root and not writable by the service: nothing is written outside /tmp.
COPY --from=build --chown=root:root /app/.venv /app/.venv
# CA bundles an operator puts in certs/ (the RDS bundle, global-bundle.pem: see certs/README.md)
# land in /app/certs/; Terraform's database_ssl_root_cert_path points PGSSLROOTCERT at one.
COPY --chown=root:root certs/ /app/certs/
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EVENT_DATA_HOST=0.0.0.0 \
    EVENT_DATA_PORT=8000
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000
# serve drains HTTP for 10 s, then gives in-flight batches EVENT_DATA_SHUTDOWN_TIMEOUT_SECONDS
# (15): 25 s, inside the 30 s stop timeout of ECS (stopTimeout) and of `podman stop -t 30`.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('EVENT_DATA_PORT', '8000')}/healthz\", timeout=2)"]
# serve trusts X-Forwarded-* from FORWARDED_ALLOW_IPS (uvicorn's proxy headers, on by default).
ENTRYPOINT ["event-data"]
CMD ["serve"]
