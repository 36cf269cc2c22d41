# syntax=docker/dockerfile:1
# Two stages: dependencies (from the lock file) before the source, so code changes rebuild fast.
# The base image is a build argument so the same file builds from a local or a registry image.
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project
COPY service ./service
COPY migrations ./migrations
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-editable

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EVENT_DATA_HOST=0.0.0.0 \
    EVENT_DATA_PORT=8000
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('EVENT_DATA_PORT', '8000')}/healthz\", timeout=2)"]
ENTRYPOINT ["event-data"]
CMD ["serve"]
