"""Streaming export, ``GET /api/v1/events/message/export`` and ``event-data export``: the search
route's filters and auth, the whole result set in NDJSON or CSV, newest first, constant memory."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest

from event_data.api.export import ExportInterrupted
from event_data.events import codec
from event_data.events.normalise import normalise_batch
from event_data.query import export as query_export
from event_data.query.export import CSV_COLUMNS
from event_data.store import search as store_search
from event_data.store.database import create_engine
from event_data.store.loading import BatchRecord, load_batch, next_batch_no
from event_data.store.partitions import Partitions
from event_data.synth.generator import EventGenerator, GeneratorConfig
from tests.conftest import (
    API_KEY,
    SAMPLE_WINDOW,
    AppFactory,
    Aws,
    make_settings,
    post_batch,
    query,
    sample_batch_bytes,
    wait_for_count,
)
from tests.export_probe import asgi_get
from tests.live_server import live_server
from tests.test_query_api import T0, make_event, send

EXPORT_PATH = "/api/v1/events/message/export"
AUTH = {"Authorization": API_KEY}


async def export(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.get(EXPORT_PATH, params=params, headers=AUTH)


async def sample_loaded(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Post SparkPost's sample batch; return the search route's answer, all in one page."""
    response = await post_batch(client, sample_batch_bytes(), batch_id="sample-export")
    assert response.status_code == 200
    await wait_for_count(client, 19)
    body = (await query(client, **SAMPLE_WINDOW, per_page="1000")).json()
    assert body["total_count"] == 19
    results: list[dict[str, Any]] = body["results"]
    return results


def ndjson_lines(content: bytes) -> list[dict[str, Any]]:
    assert content.endswith(b"\n")
    return [json.loads(line) for line in content.split(b"\n")[:-1]]


def csv_rows(content: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8"), newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


async def test_ndjson_export_of_the_sample_equals_the_search_results(
    client: httpx.AsyncClient,
) -> None:
    searched = await sample_loaded(client)
    response = await export(client, **SAMPLE_WINDOW)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == (
        'attachment; filename="events-20160201T000000Z-20160203T000000Z.ndjson"'
    )
    assert ndjson_lines(response.content) == searched
    # format=ndjson is the default, spelled out.
    explicit = await export(client, **SAMPLE_WINDOW, format="ndjson")
    assert explicit.content == response.content


async def test_csv_export_of_the_sample_equals_the_search_results(
    client: httpx.AsyncClient,
) -> None:
    searched = await sample_loaded(client)
    response = await export(client, **SAMPLE_WINDOW, format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].endswith('.csv"')
    rows = csv_rows(response.content)
    assert len(rows) == len(searched) == 19
    for row, event in zip(rows, searched, strict=True):
        for column in CSV_COLUMNS:
            value = event.get(column)
            if value is None:
                assert row[column] == "", column
            elif isinstance(value, dict | list):
                assert json.loads(row[column]) == value, column
            else:
                assert row[column] == str(value), column
    # Every field of the sample that has a column made it into the file.
    filled = {column for row in rows for column in CSV_COLUMNS if row[column]}
    assert {"rcpt_meta", "rcpt_tags", "rcpt_to", "subject", "bounce_class", "geo_ip"} <= filled


@pytest.mark.parametrize(
    "filters",
    [
        {"events": "bounce,click"},
        {"rcpt_meta": "customKey:customValue", "events": "bounce,delay,sms_status"},
        {"rcpt_tags": "US", "campaigns": "example"},
        {"recipients": "NOBODY@example.invalid"},
        {"campaigns": "example|name", "delimiter": "|", "subjects": "summer"},
    ],
)
async def test_export_answers_what_the_search_route_answers(
    client: httpx.AsyncClient, filters: dict[str, str]
) -> None:
    await sample_loaded(client)
    params = {**SAMPLE_WINDOW, **filters}
    searched = (await query(client, **params, per_page="1000")).json()
    exported = await export(client, **params)
    assert exported.status_code == 200, exported.text
    lines = ndjson_lines(exported.content) if exported.content else []
    assert lines == searched["results"]
    assert len(lines) == searched["total_count"]


async def test_per_page_is_ignored(client: httpx.AsyncClient) -> None:
    await sample_loaded(client)
    # A search URL exports by its path alone: per_page does not page the export.
    everything = await export(client, **SAMPLE_WINDOW, per_page="2")
    assert len(ndjson_lines(everything.content)) == 19


async def test_empty_export_is_an_empty_file_or_a_header(client: httpx.AsyncClient) -> None:
    window = {"from": "2001-01-01T00:00Z", "to": "2001-01-02T00:00Z"}
    ndjson = await export(client, **window)
    assert ndjson.status_code == 200
    assert ndjson.content == b""
    as_csv = await export(client, **window, format="csv")
    assert as_csv.status_code == 200
    assert csv_rows(as_csv.content) == []


async def test_csv_cells_are_quoted_and_formulas_defused(client: httpx.AsyncClient) -> None:
    tricky = {
        "subject": '=HYPERLINK("http://x.invalid","click")',
        "campaign_id": "+SUM(1,2)",
        "template_id": "-2+3",
        "reason": "@cmd",
        "friendly_from": 'Quote " comma, and\nnewline',
        "ip_pool": "\tindented",
        "ip_address": "  =1+2",
        "mailbox_provider": " @SUM(1)",
        "bounce_class": "-1",
        "rcpt_meta": {"formula": "=1+1"},
    }
    await send(client, "tricky", [make_event("bounce", T0, "t1", **tricky)])
    await wait_for_count(client, 1)
    response = await export(client, **SAMPLE_WINDOW, format="csv")
    [row] = csv_rows(response.content)
    assert row["subject"] == "'" + tricky["subject"]
    assert row["campaign_id"] == "'+SUM(1,2)"
    assert row["template_id"] == "'-2+3"
    assert row["reason"] == "'@cmd"
    assert row["ip_pool"] == "'\tindented"
    # Spreadsheets that trim leading spaces would run these too.
    assert row["ip_address"] == "'  =1+2"
    assert row["mailbox_provider"] == "' @SUM(1)"
    assert row["friendly_from"] == tricky["friendly_from"]
    # Sent as a string, so returned as one (product.md Decisions 8): defused like any text.
    assert row["bounce_class"] == "'-1"
    assert json.loads(row["rcpt_meta"]) == {"formula": "=1+1"}


def test_numbers_are_not_taken_for_formulas() -> None:
    assert query_export.csv_cell(-5) == "-5"
    assert query_export.csv_cell(1.5) == "1.5"
    assert query_export.csv_cell(True) == "true"
    assert query_export.csv_cell(None) == ""
    assert query_export.csv_cell("-5") == "'-5"
    assert query_export.csv_cell(" -5") == "' -5"
    assert query_export.csv_cell(" plain") == " plain"


async def test_export_without_a_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(EXPORT_PATH, params=SAMPLE_WINDOW)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "1401"
    wrong = await client.get(EXPORT_PATH, params=SAMPLE_WINDOW, headers={"Authorization": "x"})
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("params", "naming"),
    [
        ({"format": "xml"}, "format"),
        ({"events": "bogus"}, "events"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2016-02-03T00:00Z", "to": "2016-02-01T00:00Z"}, "from"),
        ({"per_page": "0"}, "per_page"),
        ({"cursor": "abc"}, "cursor"),
    ],
)
async def test_bad_parameters_are_400_before_anything_streams(
    client: httpx.AsyncClient, params: dict[str, str], naming: str
) -> None:
    response = await export(client, **{**SAMPLE_WINDOW, **params})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["description"].startswith(f"{naming}:"), error


async def test_a_failure_mid_stream_truncates_the_download(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [make_event("delivery", T0 - i, f"m{i}") for i in range(30)]
    await send(client, "midstream", events)
    await wait_for_count(client, 30)
    real = query_export.render_ndjson
    calls = 0

    def failing(rows: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the database went away")
        return real(rows)

    monkeypatch.setitem(query_export._RENDERERS, query_export.ExportFormat.NDJSON, failing)
    monkeypatch.setattr(query_export, "CHUNK_ROWS", 10)
    bodies: list[tuple[bytes, bool]] = []
    app = client._transport.app  # type: ignore[attr-defined]
    query_string = "&".join(f"{k}={v}" for k, v in SAMPLE_WINDOW.items())
    # The status is already sent: the application raises, so that the server closes the
    # connection without ending the chunked body, and the client sees a truncated download.
    with pytest.raises(ExportInterrupted):
        await asgi_get(
            app, EXPORT_PATH, query_string, lambda b, more: bodies.append((b, more)), API_KEY
        )
    assert bodies
    assert all(more for _, more in bodies)
    assert len(ndjson_lines(b"".join(b for b, _ in bodies))) == 10
    assert calls == 2
    logged = capsys.readouterr().out
    assert "export.failed" in logged


# --- large exports ------------------------------------------------------------------------------

LARGE_EVENTS = 20_000
LARGE_START = datetime(2026, 3, 1, tzinfo=UTC)


async def load_synthetic(database_url: str, total: int) -> None:
    """Generated events written straight through the loader's store calls (faster than S3)."""
    config = GeneratorConfig(
        seed=11, start=LARGE_START, end=LARGE_START + timedelta(days=1), batch_size=5000
    )
    engine = create_engine(make_settings(database_url=database_url))
    try:
        partitions = Partitions(engine)
        await partitions.ensure(
            [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)], today=date(2026, 3, 1)
        )
        received = datetime.now(UTC)
        for i, batch in enumerate(EventGenerator(config).batches(total)):
            batch_no = await next_batch_no(engine)
            rows = [codec.encode(e, batch_no) for e in normalise_batch(batch, received).events]
            record = BatchRecord(
                batch_no, f"synth-{i}", f"synth-{i}", "k", received, len(rows), 0, 0
            )
            await load_batch(engine, record, rows)
    finally:
        await engine.dispose()


LARGE_WINDOW = {"from": "2026-02-28T00:00Z", "to": "2026-03-03T00:00Z"}


@pytest.mark.timeout(300)
async def test_a_large_export_streams_in_chunks_in_constant_memory(
    app_factory: AppFactory, database_url: str, aws: Aws
) -> None:
    client = await app_factory(EVENT_DATA_LOADER_ENABLED="false")
    await load_synthetic(database_url, LARGE_EVENTS)
    total = (await query(client, **LARGE_WINDOW, per_page="1")).json()["total_count"]
    assert total > LARGE_EVENTS * 0.95

    windows = [
        # The first export pays for what a process allocates once (caches, the dictionary).
        {"from": "2026-03-01T00:00Z", "to": "2026-03-01T01:00Z"},
        {"from": "2026-03-01T00:00Z", "to": "2026-03-01T06:00Z"},
        LARGE_WINDOW,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_DATA_")}
    env |= {
        "EVENT_DATA_ENV": "development",
        "DATABASE_URL": database_url,
        "AWS_ENDPOINT_URL": aws.endpoint,
        "EVENT_DATA_BUCKET": aws.bucket,
        "EVENT_DATA_QUEUE_URL": aws.queue_url,
        "EVENT_DATA_LOADER_ENABLED": "false",
        "EVENT_DATA_LOG_LEVEL": "warning",
        "EVENT_DATA_API_KEYS": API_KEY,
        "EXPORT_PROBE_API_KEY": API_KEY,
    }
    # Small chunks, so that a chunk is a small share of the export.
    chunk_rows = 500
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.export_probe",
        json.dumps(windows),
        str(chunk_rows),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 240)
    assert process.returncode == 0, stderr.decode()
    probes = [line.split(b" ", 1)[1] for line in stdout.splitlines() if line.startswith(b"probe ")]
    _, quarter, whole = [json.loads(probe) for probe in probes]

    assert whole["status"] == 200
    assert whole["ended"]
    assert whole["lines"] == total
    assert whole["newest_first"]
    # Many chunks, the first sent after one chunk's worth of rows, not after the whole set.
    assert whole["chunks"] >= total // chunk_rows
    assert whole["decoded_at_first_chunk"] <= chunk_rows
    # Constant memory: four times the bytes, the same peak; and the peak is a small share of
    # what was sent.
    assert whole["exported"] > 3 * quarter["exported"]
    assert whole["peak"] < 1.5 * quarter["peak"] + 1_000_000, (whole, quarter)
    assert whole["peak"] < whole["exported"] / 4, whole


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "event_data.cli",
        "export",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout, stderr


async def test_cli_export_writes_the_file(
    app_factory: AppFactory, database_url: str, tmp_path: Path
) -> None:
    client = await app_factory()
    searched = await sample_loaded(client)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_DATA_")}
    env |= {
        "DATABASE_URL": database_url,
        "EVENT_DATA_ENV": "development",
        "EVENT_DATA_LOG_LEVEL": "warning",
    }
    window = ["--from", SAMPLE_WINDOW["from"], "--to", SAMPLE_WINDOW["to"]]
    out = tmp_path / "events.csv"
    code, _, stderr = await run_cli(*window, "--format", "csv", "--out", str(out), env=env)
    assert code == 0, stderr
    rows = csv_rows(out.read_bytes())
    assert [(r["type"], r["timestamp"], r["event_id"]) for r in rows] == [
        (e["type"], e["timestamp"], e.get("event_id", "")) for e in searched
    ]
    assert b"19 events" in stderr
    assert os.listdir(tmp_path) == ["events.csv"]
    # It holds addresses: its owner's alone, from the moment it is created as FILE.part.
    assert out.stat().st_mode & 0o777 == 0o600

    # NDJSON (the default) to stdout; filters as --events and as --param.
    code, stdout, stderr = await run_cli(
        *window, "--events", "bounce,click", "--param", "delimiter=,", env=env
    )
    assert code == 0, stderr
    assert sorted(e["type"] for e in ndjson_lines(stdout)) == ["bounce", "click"]
    code, stdout, _ = await run_cli(*window, "--param", "events=open", env=env)
    assert [e["type"] for e in ndjson_lines(stdout)] == ["open"]
    code, stdout, _ = await run_cli(
        *window, "--param", "rcpt_meta=customKey:customValue", "--param", "rcpt_tags=US", env=env
    )
    assert len(ndjson_lines(stdout)) == sum(1 for e in searched if e.get("rcpt_tags"))

    # A bad parameter fails before anything is written, naming it.
    bad = tmp_path / "bad.ndjson"
    code, _, stderr = await run_cli(*window, "--events", "bogus", "--out", str(bad), env=env)
    assert code == 2
    assert b"events" in stderr
    assert not bad.exists()

    # A database failure is reported by its kind, without its text (which can quote the
    # filter's addresses) and without a traceback; no file is left behind.
    gone = {**env, "DATABASE_URL": database_url.rsplit("/", 1)[0] + "/no_such_database"}
    failed = tmp_path / "failed.ndjson"
    code, _, stderr = await run_cli(
        *window, "--param", "recipients=someone@example.com", "--out", str(failed), env=gone
    )
    assert code == 1
    assert b"event-data export: failed (" in stderr
    assert b"someone@example.com" not in stderr
    assert b"Traceback" not in stderr
    assert sorted(os.listdir(tmp_path)) == ["events.csv"]


async def test_an_unreachable_database_is_503_before_the_first_byte(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(*args: Any) -> Any:
        raise ConnectionRefusedError("database down")
        yield  # an async generator, like the real one

    monkeypatch.setattr(query_export.store, "stream_rows", unreachable)
    response = await export(client, **SAMPLE_WINDOW)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["errors"][0]["code"] == "1503"


@pytest.mark.timeout(300)
async def test_a_client_that_leaves_mid_export_frees_its_connection(
    database_url: str, aws: Aws, tmp_path: Path, db: asyncpg.Connection
) -> None:
    await load_synthetic(database_url, 10_000)

    def leave_early(base_url: str) -> int:
        with httpx.stream(
            "GET",
            f"{base_url}{EXPORT_PATH}",
            params=LARGE_WINDOW,
            headers=AUTH,
            timeout=30,
        ) as response:
            assert response.status_code == 200
            first = next(response.iter_bytes())
        return len(first)

    log_path = tmp_path / "service.log"
    with live_server(database_url, aws, log_path, log_level="info") as server:
        assert await asyncio.to_thread(leave_early, server.base_url) > 0
        # The export's transaction ends and its connection goes back to the pool.
        busy = None
        for _ in range(300):
            busy = await db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'event-data' AND state LIKE 'idle in transaction%'"
            )
            if busy == 0:
                break
            await asyncio.sleep(0.1)
        assert busy == 0
        assert server.healthy()
        whole = await asyncio.to_thread(
            httpx.get, f"{server.base_url}{EXPORT_PATH}", params=LARGE_WINDOW, headers=AUTH
        )
        assert whole.status_code == 200
        assert len(whole.content.splitlines()) > 9000
    logged = log_path.read_text()
    assert "export.client_gone" in logged
    assert "export.finished" in logged


# --- what an export holds, and for how long -----------------------------------------------------


class StalledExport:
    """An export driven over ASGI by a client that reads its first body chunk and then nothing
    until ``resume`` is set."""

    def __init__(self, app: Any, params: dict[str, str]) -> None:
        self.started = asyncio.Event()
        self.resume = asyncio.Event()
        self.body = bytearray()
        self.ended = False
        self.task = asyncio.create_task(self._run(app, params))

    async def _run(self, app: Any, params: dict[str, str]) -> int:
        async def sink(body: bytes, more: bool) -> None:
            self.body += body
            self.ended = not more
            if not self.started.is_set():
                self.started.set()
                await self.resume.wait()

        return await asgi_get(app, EXPORT_PATH, urlencode(params), sink, API_KEY)

    async def wait_started(self) -> None:
        waiter = asyncio.create_task(self.started.wait())
        await asyncio.wait({waiter, self.task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self.task.done():
            self.task.result()  # raises what the export raised
        assert self.started.is_set(), "the export did not start"


def app_of(client: httpx.AsyncClient) -> Any:
    return client._transport.app  # type: ignore[attr-defined]


async def thirty_loaded(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    await send(client, "thirty", [make_event("delivery", T0 - i, f"m{i}") for i in range(30)])
    await wait_for_count(client, 30)
    results: list[dict[str, Any]] = (await query(client, **SAMPLE_WINDOW, per_page="1000")).json()[
        "results"
    ]
    return results


async def test_the_export_route_is_rate_limited(app_factory: AppFactory) -> None:
    client = await app_factory(EVENT_DATA_RATE_LIMIT_PER_MINUTE="1")
    assert (await export(client, **SAMPLE_WINDOW)).status_code == 200
    refused = await export(client, **SAMPLE_WINDOW)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["errors"][0]["code"] == "1429"


async def test_head_answers_the_headers_and_reads_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: Any) -> Any:
        raise AssertionError("HEAD read the database")

    monkeypatch.setattr(query_export.store, "stream_rows", never)
    response = await client.head(EXPORT_PATH, params=SAMPLE_WINDOW, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"].endswith('.ndjson"')
    assert response.content == b""
    # The same checks as GET.
    assert (await client.head(EXPORT_PATH, params=SAMPLE_WINDOW)).status_code == 401
    bad = await client.head(EXPORT_PATH, params={**SAMPLE_WINDOW, "format": "xml"}, headers=AUTH)
    assert bad.status_code == 400


async def test_an_error_on_the_first_chunk_gives_the_slot_back(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await app_factory(EVENT_DATA_EXPORT_CONCURRENCY="1")
    await thirty_loaded(client)

    def broken(rows: Any) -> bytes:
        raise ValueError("a row that cannot be rendered")

    monkeypatch.setitem(query_export._RENDERERS, query_export.ExportFormat.NDJSON, broken)
    # A 500 (the test client raises what the application raised).
    with pytest.raises(ValueError, match="cannot be rendered"):
        await export(client, **SAMPLE_WINDOW)
    monkeypatch.undo()
    # Had the failed export kept its slot, this one would be refused.
    assert (await export(client, **SAMPLE_WINDOW)).status_code == 200


async def test_exports_over_the_cap_are_refused_and_the_service_stays_ready(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await app_factory(EVENT_DATA_EXPORT_CONCURRENCY="2")
    searched = await thirty_loaded(client)
    monkeypatch.setattr(query_export, "CHUNK_ROWS", 10)
    stalled = [StalledExport(app_of(client), SAMPLE_WINDOW) for _ in range(2)]
    for one in stalled:
        await one.wait_started()

    refused = await export(client, **SAMPLE_WINDOW)
    assert refused.status_code == 503
    assert refused.headers["retry-after"]
    [error] = refused.json()["errors"]
    assert error["code"] == "1503"
    assert "exports" in error["description"]
    # The stalled exports hold no connection: the pool serves health checks and searches.
    assert (await client.get("/readyz")).status_code == 200
    assert (await query(client, **SAMPLE_WINDOW)).json()["total_count"] == 30

    for one in stalled:
        one.resume.set()
    for one in stalled:
        assert await asyncio.wait_for(one.task, 30) == 200
        assert one.ended
        assert ndjson_lines(bytes(one.body)) == searched
    # Finished exports give their slots back.
    assert (await export(client, **SAMPLE_WINDOW)).status_code == 200


async def test_a_stalled_client_is_cut_off_at_the_maximum_duration(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await app_factory(EVENT_DATA_EXPORT_CONCURRENCY="1", EVENT_DATA_EXPORT_MAX_SECONDS="1")
    await thirty_loaded(client)
    monkeypatch.setattr(query_export, "CHUNK_ROWS", 10)
    stalled = StalledExport(app_of(client), SAMPLE_WINDOW)
    await stalled.wait_started()
    # The client never reads again; the service cuts the download short (no end of body).
    with pytest.raises(ExportInterrupted):
        await asyncio.wait_for(stalled.task, 30)
    assert not stalled.ended
    assert "export.timed_out" in capsys.readouterr().out
    assert (await export(client, **SAMPLE_WINDOW)).status_code == 200


async def test_an_export_holds_the_rows_of_the_moment_it_started(
    client: httpx.AsyncClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch committed between two chunks is not in the export, though it has events on both
    sides of where the export has got to; nothing is repeated or skipped."""
    searched = await thirty_loaded(client)
    monkeypatch.setattr(query_export, "CHUNK_ROWS", 7)
    real_next_page = store_search.next_page
    pages = 0

    async def next_page_after_a_load(engine: Any, request: Any) -> Any:
        nonlocal pages
        pages += 1
        if pages == 2:
            # Newer than everything, older than everything, and one in the middle.
            stamps = [T0 + 60, T0 - 5_000, T0 - 20]
            await load_directly(database_url, "mid-export", stamps)
        return await real_next_page(engine, request)

    monkeypatch.setattr(store_search, "next_page", next_page_after_a_load)
    exported = await export(client, **SAMPLE_WINDOW)
    assert exported.status_code == 200
    lines = ndjson_lines(exported.content)
    assert pages == 4  # 30 rows in chunks of 7: the load came after two chunks were sent
    assert lines == searched
    assert len({(e["type"], e["event_id"]) for e in lines}) == 30

    monkeypatch.undo()
    after = ndjson_lines((await export(client, **SAMPLE_WINDOW)).content)
    assert len(after) == 33
    assert [e for e in after if e["event_id"].startswith("mid-export")] != []


async def load_directly(database_url: str, name: str, stamps: list[float]) -> None:
    """A batch written through the loader's store calls, committed when this returns."""
    raw = [make_event("delivery", ts, f"{name}-{n}") for n, ts in enumerate(stamps)]
    engine = create_engine(make_settings(database_url=database_url))
    try:
        received = datetime.now(UTC)
        batch_no = await next_batch_no(engine)
        rows = [codec.encode(e, batch_no) for e in normalise_batch(raw, received).events]
        record = BatchRecord(batch_no, name, name, "k", received, len(rows), 0, 0)
        await load_batch(engine, record, rows)
    finally:
        await engine.dispose()


async def test_a_partition_can_be_attached_while_an_export_runs(
    client: httpx.AsyncClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await thirty_loaded(client)
    monkeypatch.setattr(query_export, "CHUNK_ROWS", 10)
    stalled = StalledExport(app_of(client), SAMPLE_WINDOW)
    await stalled.wait_started()
    # Mid-export, the export holds no transaction, so no lock on the partitions, the default
    # one included, which attaching a partition locks exclusively.
    engine = create_engine(make_settings(database_url=database_url))
    try:
        day = date(2031, 1, 1)
        # Without waiting out its lock retries (about 20 s): it gets its lock at once.
        created = await asyncio.wait_for(Partitions(engine).ensure([day], today=day), 10)
        assert created == [day]
    finally:
        await engine.dispose()
    assert not stalled.ended
    stalled.resume.set()
    assert await asyncio.wait_for(stalled.task, 30) == 200
    assert len(ndjson_lines(bytes(stalled.body))) == 30
