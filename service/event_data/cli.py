"""The ``event-data`` command: serve, migrate, dev, generate, export."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from event_data import export_cli
from event_data.config import ConfigError, Settings, load_settings
from event_data.logging import configure_logging
from event_data.synth import cli as synth_cli

# SIGTERM first drains HTTP requests (webhooks answer in well under SparkPost's 10 s), then the
# lifespan gives in-flight batches EVENT_DATA_SHUTDOWN_TIMEOUT_SECONDS (15). Together they stay
# inside ECS's default 30 s stop timeout, after which it sends SIGKILL.
GRACEFUL_SHUTDOWN_SECONDS = 10


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"event-data: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _serve(settings: Settings) -> int:
    import uvicorn

    from event_data.app import create_app
    from event_data.server import GracefulServer

    configure_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        access_log=False,
        log_config=None,
        server_header=False,
    )
    server = GracefulServer(config)
    server.run()
    # uvicorn leaves started=False when startup failed (e.g. the database is unreachable).
    return 0 if server.started else 1


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(_settings_or_exit())


def cmd_migrate(args: argparse.Namespace) -> int:
    from event_data.store.database import create_engine
    from event_data.store.migrate import migrate

    settings = _settings_or_exit()
    configure_logging(settings.log_level)

    async def run() -> list[str]:
        engine = create_engine(settings)
        try:
            return await migrate(engine)
        finally:
            await engine.dispose()

    applied = asyncio.run(run())
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    return export_cli.run(args, settings)


def cmd_dev(args: argparse.Namespace) -> int:
    """A working local instance: database created and migrated, S3 and SQS emulated in-process
    and provisioned as in production, development credentials printed."""
    from event_data import devstack
    from event_data.store.admin import create_database_if_missing

    os.environ.setdefault("EVENT_DATA_ENV", "development")
    # Keep everything, so SparkPost's 2016-dated sample batch stays visible.
    os.environ.setdefault("EVENT_DATA_RETENTION_DAYS", "0")
    devstack.ensure_fake_credentials()
    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    created = asyncio.run(create_database_if_missing(settings.database_url))
    moto = devstack.start_moto("127.0.0.1", args.moto_port)
    try:
        endpoint = f"http://127.0.0.1:{args.moto_port}"
        local = devstack.provision(
            endpoint,
            region=settings.aws_region,
            bucket=settings.bucket,
            queue_name="event-data-batches",
            prefix=settings.archive_prefix,
        )
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ["EVENT_DATA_QUEUE_URL"] = local.queue_url
        settings = _settings_or_exit()
        _print_banner(settings, created)
        return _serve(settings)
    finally:
        moto.stop()


def _print_banner(settings: Settings, created: bool) -> None:
    url = f"http://{settings.host}:{settings.port}"
    password = settings.webhook_password.reveal() if settings.webhook_password else ""
    secret = settings.oauth_client_secret.reveal() if settings.oauth_client_secret else ""
    print(
        f"""
event-data (development) on {url}
  database        {"created and " if created else ""}migrated: {settings.database_url}
  S3/SQS          emulated at {settings.aws_endpoint_url} (bucket {settings.bucket})
  webhook         POST {url}/webhooks/sparkpost  basic auth {settings.webhook_user}:{password}
  oauth2          POST {url}/oauth/token  client {settings.oauth_client_id} / {secret}
  query           GET  {url}/api/v1/events/message  Authorization: {settings.api_keys[0].reveal()}
Ctrl-C stops everything.
""",
        flush=True,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="event-data", description="A long-term, searchable database of SparkPost events."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the service (receiver, loader, query API)").set_defaults(
        func=cmd_serve
    )
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )
    dev = sub.add_parser("dev", help="a local instance with emulated S3/SQS (make run)")
    dev.add_argument("--moto-port", type=int, default=4566, help="local S3/SQS port (4566)")
    dev.set_defaults(func=cmd_dev)
    synth_cli.add_parser(sub)
    export_cli.add_parser(sub).set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
