"""The ``event-data`` command: serve, migrate, dev, generate, export, dlq, replay."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date
from typing import TYPE_CHECKING

from event_data import export_cli
from event_data.config import ConfigError, Settings, load_settings
from event_data.logging import configure_logging
from event_data.synth import cli as synth_cli

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from event_data.aws import AwsClients

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


@asynccontextmanager
async def _resources(settings: Settings) -> AsyncIterator[tuple[AsyncEngine, AwsClients]]:
    """The pool and the AWS clients an operator command works with."""
    from event_data.aws import open_aws_clients
    from event_data.store.database import create_engine

    engine = create_engine(settings)
    try:
        async with open_aws_clients(settings) as clients:
            yield engine, clients
    finally:
        await engine.dispose()


async def _dlq_url(settings: Settings, clients: AwsClients) -> str | None:
    """The dead-letter queue's URL, or None once the reason it cannot be found is printed."""
    from event_data.loader.dlq import DeadLetterQueueUnknown, dead_letter_queue_url

    try:
        return await dead_letter_queue_url(clients.sqs, settings.queue_url, settings.dlq_url)
    except DeadLetterQueueUnknown as exc:
        print(f"event-data: {exc}", file=sys.stderr)
        return None


def cmd_dlq_list(args: argparse.Namespace) -> int:
    from event_data.loader.dlq import list_dead_letters as list_letters
    from event_data.store.loading import last_failures

    settings = _settings_or_exit()
    configure_logging(settings.log_level)

    async def run() -> int:
        async with _resources(settings) as (engine, clients):
            dlq_url = await _dlq_url(settings, clients)
            if dlq_url is None:
                return 2
            letters = await list_letters(clients.sqs, dlq_url, args.limit)
            reasons = await last_failures(engine, [k for d in letters for k in d.keys])
        print(f"{len(letters)} message(s) in {dlq_url}")
        for letter in letters:
            sent = f"{letter.sent_at:%Y-%m-%dT%H:%M:%SZ}" if letter.sent_at else "?"
            received = letter.receive_count if letter.receive_count is not None else "?"
            for key in letter.keys or ("(not an S3 notification)",):
                failure = reasons.get(key)
                last = "no failure recorded"
                if failure is not None:
                    at = f"{failure.failed_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
                    last = f"{failure.reason} ({failure.failures} failures, last {at})"
                print(f"{key}\treceived {received}x\tsent {sent}\t{last}")
        return 0

    return asyncio.run(run())


def cmd_dlq_redrive(args: argparse.Namespace) -> int:
    from event_data.loader.dlq import redrive

    settings = _settings_or_exit()
    configure_logging(settings.log_level)

    async def run() -> int:
        async with _resources(settings) as (_engine, clients):
            dlq_url = await _dlq_url(settings, clients)
            if dlq_url is None:
                return 2
            result = await redrive(clients.sqs, dlq_url, settings.queue_url, args.limit)
        print(f"moved {result.moved} message(s) back to {settings.queue_url}")
        if result.failed:
            print(f"{result.failed} message(s) could not be sent and stay in the DLQ")
        if result.not_deleted:
            print(
                f"{result.not_deleted} message(s) were sent but could not be deleted from the"
                " DLQ: they are in both queues until the next redrive (loading is idempotent)"
            )
        return 1 if result.failed or result.not_deleted else 0

    return asyncio.run(run())


def cmd_replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from event_data.archive.s3 import Archive
    from event_data.loader.batch_loader import BatchLoader
    from event_data.loader.replay import day_prefixes, replay
    from event_data.loader.workers import PrepareWorkers
    from event_data.store.migrate import migrate
    from event_data.store.partitions import Partitions

    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    if args.prefix is not None and (args.date_from is not None or args.date_to is not None):
        print("event-data: give --prefix, or --from and --to, not both", file=sys.stderr)
        return 2
    if args.prefix is not None:
        prefixes = [args.prefix]
    else:
        if args.date_from is None or args.date_to is None:
            print("event-data: replay needs --from and --to, or --prefix", file=sys.stderr)
            return 2
        try:
            prefixes = day_prefixes(settings.archive_prefix, args.date_from, args.date_to)
        except ValueError as exc:
            print(f"event-data: {exc}", file=sys.stderr)
            return 2

    async def run() -> int:
        async with _resources(settings) as (engine, clients):
            await migrate(engine)
            archive = Archive(clients.s3, settings.bucket)
            keys = [key for prefix in prefixes for key in await archive.list_keys(prefix)]
            partitions = Partitions(engine)
            await partitions.existing()
            workers = PrepareWorkers(settings.loader_processes)
            loader = BatchLoader(engine, archive, partitions, settings.retention_days, workers)
            try:
                with tqdm(
                    total=len(keys), unit="batch", file=sys.stderr, disable=args.quiet
                ) as bar:
                    summary = await replay(
                        loader, settings.bucket, keys, args.concurrency, lambda _key: bar.update()
                    )
            finally:
                workers.close()
        print(
            f"replayed {summary.batches} of {len(keys)} batch(es): {summary.loaded} loaded,"
            f" {summary.already_loaded} already loaded; events: {summary.events_inserted}"
            f" inserted, {summary.events_duplicate} duplicate, {summary.events_expired} expired"
        )
        for key, reason in summary.failed:
            print(f"failed: {key}: {reason}", file=sys.stderr)
        if summary.failed:
            print(f"{len(summary.failed)} batch(es) failed; replay again to retry them")
            return 1
        return 0

    return asyncio.run(run())


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _limit(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _add_operator_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = sub.add_parser("dlq", help="the dead-letter queue: list or redrive")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = dlq_sub.add_parser(
        "list", help="messages in the DLQ: archive key, receives, sent time, last failure"
    )
    listing.add_argument("--limit", type=_limit, default=1000, help="at most (1000)")
    listing.set_defaults(func=cmd_dlq_list)
    move = dlq_sub.add_parser("redrive", help="move the DLQ's messages back to the main queue")
    move.add_argument("--limit", type=_limit, default=100_000, help="at most (100000)")
    move.set_defaults(func=cmd_dlq_redrive)

    again = sub.add_parser(
        "replay",
        help="re-ingest archived batches from S3, idempotently",
        description="Load archived batches again through the loader. Batches the database "
        "already records are skipped; events already stored are kept once.",
    )
    again.add_argument(
        "--from",
        dest="date_from",
        metavar="DATE",
        type=_date,
        help="first day received (UTC, YYYY-MM-DD)",
    )
    again.add_argument(
        "--to",
        dest="date_to",
        metavar="DATE",
        type=_date,
        help="last day received, inclusive (UTC, YYYY-MM-DD)",
    )
    again.add_argument("--prefix", help="replay every key under this S3 prefix instead")
    again.add_argument("--concurrency", type=_limit, default=4, help="batches loaded at once (4)")
    again.add_argument("--quiet", action="store_true", help="no progress bar")
    again.set_defaults(func=cmd_replay)


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
    _add_operator_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
