"""Credentials on every route, constant-time secrets, hostile query values, and logs that hold
no address, body or secret."""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import hmac
import io
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import structlog
from starlette.routing import BaseRoute, Mount, Route

from event_data.app import create_app
from event_data.config import Secret
from event_data.ingest.credentials import equal
from event_data.ingest.tokens import AUDIENCE, ISSUER
from event_data.logging import configure_logging
from event_data.query import params as params_module
from tests.conftest import (
    API_KEY,
    SAMPLE_WINDOW,
    WEBHOOK_AUTH,
    AppFactory,
    Aws,
    make_settings,
    post_batch,
    query,
    sample_batch_bytes,
    wait_for_count,
)

PACKAGE = Path(__file__).resolve().parents[1] / "service" / "event_data"
# Public by design: probes, metrics, and the API's own description.
PUBLIC_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json"}
OAUTH_SECRET = "test-oauth-secret"
SIGNING_KEY = "test-signing-key"
LEGACY_TOKEN = "test-legacy-token"


# --- every route but the public ones needs credentials -------------------------------------


def _walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _walk(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            path = re.sub(r"\{[^}]+\}", "x", prefix + route.path)
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                yield method, path


def _routes() -> list[tuple[str, str]]:
    return list(_walk(create_app(make_settings()).routes))


def test_the_walk_sees_every_route() -> None:
    found = set(_routes())
    assert ("POST", "/webhooks/sparkpost") in found
    assert ("GET", "/api/v1/events/message") in found
    assert ("GET", "/healthz") in found


@pytest.mark.parametrize(("method", "path"), [r for r in _routes() if r[1] not in PUBLIC_PATHS])
async def test_every_non_public_route_refuses_requests_without_credentials(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    # A body that would be accepted apart from its missing credentials.
    body = json.dumps({"grant_type": "client_credentials"}).encode()
    response = await client.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401, (method, path, response.text)


@pytest.mark.parametrize(("method", "path"), [r for r in _routes() if r[1] in PUBLIC_PATHS])
async def test_public_routes_answer_without_credentials(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 200, (method, path)


# --- wrong credentials of every shape are refused, never a 500 ------------------------------


def _token_key() -> bytes:
    return hmac.new(SIGNING_KEY.encode(), b"oauth-access-token", hashlib.sha256).digest()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "sparkpost-client",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return claims


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


def _bad_webhook_authorizations() -> dict[str, list[tuple[bytes, bytes]]]:
    good = jwt.encode(_claims(), _token_key(), algorithm="HS256")
    head, payload, signature = good.split(".")
    cases: dict[str, list[tuple[str, str]]] = {
        "wrong-password": [("Authorization", _basic(b"sparkpost:test-webhook-passwore"))],
        "short-password": [("Authorization", _basic(b"sparkpost:x"))],
        "long-password": [("Authorization", _basic(b"sparkpost:" + b"p" * 5000))],
        "wrong-user": [("Authorization", _basic(b"sparkposx:test-webhook-password"))],
        "no-colon": [("Authorization", _basic(b"sparkpost"))],
        "bad-base64": [("Authorization", "Basic %%%not-base64")],
        "empty-basic": [("Authorization", "Basic ")],
        "empty-bearer": [("Authorization", "Bearer ")],
        "garbage-bearer": [("Authorization", "Bearer not.a.token")],
        "no-signature": [("Authorization", f"Bearer {head}.{payload}.")],
        "cut-signature": [("Authorization", f"Bearer {head}.{payload}.{signature[:-4]}")],
        "hs512": [
            (
                "Authorization",
                "Bearer " + jwt.encode(_claims(), _token_key() * 2, algorithm="HS512"),
            )
        ],
        "expired": [
            (
                "Authorization",
                "Bearer " + jwt.encode(_claims(exp=int(time.time()) - 1), _token_key()),
            )
        ],
        "no-expiry": [
            (
                "Authorization",
                "Bearer "
                + jwt.encode({k: v for k, v in _claims().items() if k != "exp"}, _token_key()),
            )
        ],
        "api-key-as-bearer": [("Authorization", f"Bearer {API_KEY}")],
        "api-key-alone": [("Authorization", API_KEY)],
        "wrong-legacy-token": [("X-MessageSystems-Webhook-Token", "test-legacy-tokem")],
        "short-legacy-token": [("X-MessageSystems-Webhook-Token", "t")],
    }
    encoded = {
        name: [(k.encode(), v.encode("latin-1")) for k, v in headers]
        for name, headers in cases.items()
    }
    # Bytes that are not UTF-8 in the credentials themselves.
    encoded["latin1-password"] = [(b"Authorization", _basic(b"sparkpost:\xe9\xff").encode())]
    encoded["latin1-legacy-token"] = [(b"X-MessageSystems-Webhook-Token", b"\xe9\xff\xfe")]
    encoded["latin1-bearer"] = [(b"Authorization", b"Bearer \xe9\xff.\xfe.\xfd")]
    return encoded


BAD_WEBHOOK_AUTH = _bad_webhook_authorizations()


async def test_wrong_webhook_credentials_are_401(client: httpx.AsyncClient, aws: Aws) -> None:
    statuses = {}
    for case, headers in sorted(BAD_WEBHOOK_AUTH.items()):
        response = await client.post(
            "/webhooks/sparkpost", content=sample_batch_bytes(), headers=headers
        )
        statuses[case] = response.status_code
    assert statuses == dict.fromkeys(BAD_WEBHOOK_AUTH, 401)
    assert aws.archived_keys() == []


@pytest.mark.parametrize(
    "authorization",
    [
        b"wrong-key",
        b"t",
        b"test-api-key-",
        b"k" * 3000,
        b"\xe9\xff\xfe",
        _basic(b"test-api-kez:").encode(),
        _basic(b"\xe9:\xff").encode(),
        b"Bearer test-api-key",
    ],
    ids=["wrong", "short", "longer", "huge", "latin1", "basic-wrong", "basic-latin1", "bearer"],
)
async def test_wrong_api_keys_are_401(client: httpx.AsyncClient, authorization: bytes) -> None:
    response = await client.get(
        "/api/v1/events/message", params=SAMPLE_WINDOW, headers=[(b"Authorization", authorization)]
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("secret", ["x", "test-oauth-secreT", "s" * 5000, "caf\u00e9\u2603"])
async def test_wrong_oauth_secrets_are_401(client: httpx.AsyncClient, secret: str) -> None:
    response = await client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": "sparkpost-client",
            "client_secret": secret,
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_secret_comparison_never_raises_whatever_the_lengths_or_characters() -> None:
    for given in ("", "x", "secret", "secret" * 1000, "caf\u00e9", "\udcff\udcfe", "\u2603" * 3):
        for expected in ("secret", "caf\u00e9", "x" * 64):
            assert equal(given, expected) is (given == expected)
    assert Secret("caf\u00e9") == Secret("caf\u00e9")
    assert Secret("caf\u00e9") != Secret("cafe")
    assert Secret("a") != Secret("a" * 100)


def test_secrets_are_only_compared_in_constant_time() -> None:
    """A code review in a test: no ``==`` or ``!=`` next to a revealed secret, and the modules
    that check credentials compare through ``hmac.compare_digest``."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                continue
            for side in [node.left, *node.comparators]:
                text = ast.unparse(side)
                if "reveal()" in text or re.search(r"password|secret|token|api_key", text):
                    # constants, lengths, and `x is None` tests compare no secret's value
                    if isinstance(side, ast.Constant | ast.Compare) or text.startswith("len("):
                        continue
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {text}")
    assert offenders == []
    for module in ("ingest/credentials.py", "query/cursor.py"):
        assert "hmac.compare_digest" in (PACKAGE / module).read_text(), module


# --- SQL injection strings in every filter ---------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "x' OR 1=1--",
    "x'); DROP TABLE events;--",
    '" OR ""="',
    "1; SELECT pg_sleep(5)",
    "x' UNION SELECT * FROM batches--",
    "%' OR ''='",
    "\\'; DROP TABLE batches; --",
    "x\x00y",
    "$1",
    "a:b' OR '1'='1",  # the shape of rcpt_meta's key:value
]
# Every parameter of SparkPost's Events API (sparkpost.md §4.2) and this service's extensions;
# the names the params module lists are added to it, so a filter added there is covered too.
SPARKPOST_PARAMETERS = [
    "events",
    "from",
    "to",
    "cursor",
    "per_page",
    "event_ids",
    "recipients",
    "recipient_domains",
    "from_addresses",
    "sending_domains",
    "subjects",
    "bounce_classes",
    "reasons",
    "campaigns",
    "templates",
    "sending_ips",
    "ip_pools",
    "subaccounts",
    "messages",
    "transmissions",
    "mailbox_providers",
    "mailbox_provider_regions",
    "ab_tests",
    "ab_test_versions",
    "rcpt_meta",
    "rcpt_tags",
]


def _parameter_names() -> list[str]:
    names = set(SPARKPOST_PARAMETERS)
    for attribute, value in vars(params_module).items():
        if not re.fullmatch(r"[A-Z_]*(PARAM|FILTER|SUPPORTED)[A-Z_]*", attribute):
            continue  # e.g. the event types it imports
        if (
            isinstance(value, tuple | list | frozenset | set)
            and value
            and all(isinstance(v, str) and re.fullmatch(r"[a-z][a-z_]*", v) for v in value)
        ):
            names.update(value)
    names.discard("delimiter")  # not a filter: any value is a delimiter
    return sorted(names)


async def test_injection_strings_in_every_parameter_find_nothing(
    client: httpx.AsyncClient,
) -> None:
    # One app and one load for every parameter: the loop is the parametrisation.
    assert (await post_batch(client, sample_batch_bytes(), "injection")).status_code == 200
    await wait_for_count(client, 19)
    wrong = []
    for parameter in _parameter_names():
        for value in INJECTIONS:
            response = await query(client, **{**SAMPLE_WINDOW, parameter: value})
            # Refused as a bad value, or a correct answer: nothing matches.
            if response.status_code == 200:
                body = response.json()
                if body["total_count"] != 0 or body["results"] != []:
                    wrong.append((parameter, value, body["total_count"]))
            elif response.status_code == 400:
                assert set(response.json()["errors"][0]) == {"message", "description", "code"}
            else:
                wrong.append((parameter, value, response.status_code))
    assert wrong == []
    # nothing was changed or dropped: every event is still there
    assert (await query(client, **SAMPLE_WINDOW)).json()["total_count"] == 19


def test_the_injection_test_covers_the_documented_parameters() -> None:
    names = _parameter_names()
    assert {"events", "from", "to", "cursor", "per_page", "recipients", "rcpt_meta"} <= set(names)


# --- the logs of a full run hold no address, body or secret ----------------------------------

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
BODY_FRAGMENT = "Unmistakable-Subject-Fragment-7731"


@pytest.fixture
def app_logs() -> Iterator[io.StringIO]:
    """The service's own logging configuration, at its most verbose, writing what it would
    write to stdout into a buffer; the default configuration is restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    stdout, sys.stdout = sys.stdout, buffer
    try:
        configure_logging("debug")
    finally:
        sys.stdout = stdout
    # The test's own HTTP client logs its requests' URLs; the service has no such client.
    client_logger = logging.getLogger("httpx")
    client_level = client_logger.level
    client_logger.setLevel(logging.WARNING)
    yield buffer
    client_logger.setLevel(client_level)
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _batch_with_addresses(n: int) -> bytes:
    return json.dumps(
        [
            {
                "msys": {
                    "message_event": {
                        "type": "delivery",
                        "event_id": f"leak-{n}-{i}",
                        "timestamp": str(1454420000 + i),
                        "rcpt_to": f"leak.check.{n}.{i}@example.org",
                        "friendly_from": "sender@example.net",
                        "subject": f"{BODY_FRAGMENT} {i}",
                        "rcpt_meta": {"owner": "meta.owner@example.com"},
                    }
                }
            }
            for i in range(5)
        ]
    ).encode()


async def test_the_logs_of_a_full_run_hold_no_address_body_or_secret(
    app_logs: io.StringIO, app_factory: AppFactory
) -> None:
    client = await app_factory(EVENT_DATA_MAINTENANCE_INTERVAL_SECONDS="3600")
    wrong_password = "wrong-password-0xdeadbeef"
    for n in range(2):
        assert (await post_batch(client, _batch_with_addresses(n), f"b{n}")).status_code == 200
    refused = await client.post(
        "/webhooks/sparkpost",
        content=_batch_with_addresses(9),
        auth=(WEBHOOK_AUTH[0], wrong_password),
    )
    assert refused.status_code == 401
    bad_body = b'{"rcpt_to": "bad.body@example.org", "subject": "' + BODY_FRAGMENT.encode() + b'"'
    assert (await post_batch(client, bad_body)).status_code == 400
    # an address used as a batch id and a request id
    odd = await post_batch(
        client, _batch_with_addresses(3), "id.leak@example.org", **{"X-Request-ID": "r@x.io"}
    )
    assert odd.status_code == 200
    token_response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sparkpost-client",
            "client_secret": OAUTH_SECRET,
        },
    )
    token = token_response.json()["access_token"]
    by_token = await client.post(
        "/webhooks/sparkpost",
        content=_batch_with_addresses(4),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert by_token.status_code == 200
    await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "nope"},
    )
    await wait_for_count(client, 20, **{"from": "2016-02-02T00:00Z", "to": "2016-02-03T00:00Z"})
    await query(client, **SAMPLE_WINDOW, recipients="someone@example.com")
    await query(client, **SAMPLE_WINDOW, rcpt_meta="owner:meta.owner@example.com")
    await client.get("/api/v1/events/message/someone@example.com")
    await client.get("/api/v1/events/message", headers={"Authorization": "wrong-api-key"})
    page = await query(client, **SAMPLE_WINDOW, per_page="2")
    cursor = page.json()["links"]["next"]
    await client.get(cursor, headers={"Authorization": API_KEY})

    # the maintenance round the lifespan started runs beside all this
    for _ in range(150):
        if '"maintenance.run"' in app_logs.getvalue():
            break
        await asyncio.sleep(0.1)
    out = app_logs.getvalue()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    events = {line["event"] for line in lines}
    assert {"http.request", "webhook.accepted", "loader.batch_loaded", "maintenance.run"} <= events
    requests = [line for line in lines if line["event"] == "http.request"]
    assert all(line.get("request_id") and line.get("route") for line in requests)

    assert EMAIL.findall(out) == []
    secrets = [
        WEBHOOK_AUTH[1],
        wrong_password,
        OAUTH_SECRET,
        SIGNING_KEY,
        LEGACY_TOKEN,
        API_KEY,
        "other-key",
        "wrong-api-key",
        token,
        token.split(".")[2],
        cursor.split("cursor=")[1].split("&")[0][:24],
        BODY_FRAGMENT,
        "example.org",
        "example.com",
    ]
    for secret in secrets:
        assert secret not in out, secret
