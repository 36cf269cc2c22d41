"""``GET /openapi.json``: a valid OpenAPI 3.1 document, served without credentials, describing
every route and every Events API parameter (sparkpost.md §4.2) and extension."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from openapi_spec_validator import validate

from event_data.app import routes
from event_data.query.export import CSV_COLUMNS

# sparkpost.md §4.2, in its order.
EVENTS_API_PARAMETERS = (
    "from",
    "to",
    "cursor",
    "per_page",
    "delimiter",
    "event_ids",
    "events",
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
)
EXTENSIONS = ("rcpt_meta", "rcpt_tags")
# The domain notes, where a checkout has them beside the repository.
SPARKPOST_NOTES = Path(__file__).resolve().parents[2] / "shared" / "docs" / "sparkpost.md"


async def fetch(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def parameters(document: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}


async def test_the_document_is_valid_openapi_and_needs_no_key(client: httpx.AsyncClient) -> None:
    document = await fetch(client)
    assert document["openapi"].startswith("3.1")
    validate(document)


async def test_every_route_is_described_with_its_methods(client: httpx.AsyncClient) -> None:
    document = await fetch(client)
    served = {
        (route.path, method.lower())
        for route in routes()
        for method in (route.methods or ())
        if method != "HEAD"
    }
    described = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }
    assert described == served


async def test_every_events_api_parameter_and_extension_is_described(
    client: httpx.AsyncClient,
) -> None:
    document = await fetch(client)
    search = parameters(document, "/api/v1/events/message")
    assert set(search) == set(EVENTS_API_PARAMETERS) | set(EXTENSIONS)
    for name, parameter in search.items():
        assert parameter["in"] == "query"
        assert len(parameter["description"]) > 20, name
    export = parameters(document, "/api/v1/events/message/export")
    assert set(export) == set(search) | {"format"}
    assert export["format"]["schema"]["enum"] == ["ndjson", "csv"]
    for column in CSV_COLUMNS:
        assert column in export["format"]["description"]


async def test_the_parameter_list_is_sparkposts(client: httpx.AsyncClient) -> None:
    """The document describes the table of sparkpost.md §4.2. The table comes from the
    notes where a checkout has them beside it, else from the copy above: in a clone without
    ../shared the test still checks the document, against the copy."""
    table: tuple[str, ...] = EVENTS_API_PARAMETERS
    if SPARKPOST_NOTES.is_file():
        text = SPARKPOST_NOTES.read_text()
        section = text[text.index("### 4.2") : text.index("### 4.3")]
        table = tuple(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
        assert table == EVENTS_API_PARAMETERS
    document = await fetch(client)
    described = [
        p["name"] for p in document["paths"]["/api/v1/events/message"]["get"]["parameters"]
    ]
    assert set(described) - set(EXTENSIONS) == set(table)


async def test_responses_and_errors_are_described(client: httpx.AsyncClient) -> None:
    document = await fetch(client)
    search = document["paths"]["/api/v1/events/message"]["get"]
    assert set(search["responses"]) == {"200", "400", "401", "414", "429", "503"}
    page = document["components"]["schemas"]["Page"]
    assert set(page["required"]) == {"results", "total_count", "links"}
    error = document["components"]["schemas"]["Errors"]["properties"]["errors"]["items"]
    assert set(error["required"]) == {"message", "description", "code"}
    assert error["properties"]["code"]["type"] == "string"
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["apiKey"]["description"],
    }
    assert {schemes[s]["scheme"] for s in ("webhookBasic", "webhookBearer")} == {"basic", "bearer"}
    webhook = document["paths"]["/webhooks/sparkpost"]["post"]
    assert {next(iter(s)) for s in webhook["security"]} == {
        "webhookBasic",
        "webhookBearer",
        "webhookToken",
    }
