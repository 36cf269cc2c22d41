"""``GET /openapi.json``: the OpenAPI 3.1 description of every route, built once.

It is documentation, served without credentials like ``/healthz``; it names no key, host or
secret. The query parameters are listed once here, with their meaning, for the search and the
export routes alike.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from event_data.api.responses import OrjsonResponse
from event_data.query.export import CSV_COLUMNS, EXPORT_PATH, ExportFormat
from event_data.query.params import DEFAULT_PER_PAGE, MAX_PER_PAGE

OPENAPI_VERSION = "3.1.0"
EVENTS_PATH = "/api/v1/events/message"

_DATE_FORMS = "`YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:ss`, optional fraction, `Z` or `±hh:mm`"
_LIST = "Comma-separated list (or split by `delimiter`); any listed value matches (OR)."
_KEYWORD = (
    " Keyword search: a word is a run of letters and digits, matching is case-insensitive and "
    "on whole words, and a value of several words matches when all of them appear."
)


def _list(field: str, keyword: bool = False) -> str:
    return f"{_LIST} Matches `{field}`.{_KEYWORD if keyword else ''}"


# Every query parameter of SparkPost's Events API (sparkpost.md §4.2), then this service's
# extensions, with what it means here.
EVENTS_API_PARAMETERS: dict[str, str] = {
    "events": _list("type") + " Values are the known type names; another is a 400.",
    "event_ids": _list("event_id"),
    "recipients": _list("rcpt_to") + " Compared case-insensitively.",
    "recipient_domains": _list("recipient_domain", keyword=True)
    + " Falls back to the domain of `rcpt_to`.",
    "from_addresses": _list("friendly_from") + " Compared case-insensitively.",
    "sending_domains": _list("sending_domain", keyword=True)
    + " Falls back to the domain of `friendly_from`.",
    "subjects": _list("subject", keyword=True),
    "bounce_classes": _list("bounce_class") + " Numbers (sparkpost.md §5).",
    "reasons": _list("reason", keyword=True) + " The masked reason only, not `raw_reason`.",
    "campaigns": _list("campaign_id", keyword=True),
    "templates": _list("template_id", keyword=True),
    "sending_ips": _list("sending_ip"),
    "ip_pools": _list("ip_pool", keyword=True),
    "subaccounts": _list("subaccount_id") + " Numbers.",
    "messages": _list("message_id"),
    "transmissions": _list("transmission_id"),
    "mailbox_providers": _list("mailbox_provider", keyword=True),
    "mailbox_provider_regions": _list("mailbox_provider_region", keyword=True),
    "ab_tests": _list("ab_test_id", keyword=True) + " Also `ab_test.id` on ab_test events.",
    "ab_test_versions": _list("ab_test_version") + " Numbers; only together with `ab_tests`.",
    "from": f"Start of the window, inclusive; default 24 hours before `to`. {_DATE_FORMS}.",
    "to": f"End of the window, exclusive; default one minute ago. {_DATE_FORMS}.",
    "delimiter": "The separator of the list parameters; default `,`.",
    "per_page": f"Events per page, 1 to {MAX_PER_PAGE}; default {DEFAULT_PER_PAGE}.",
    "cursor": "Opaque position from `links.next`; `initial` or absent is the first page. "
    "Signed and bound to the filters: an edited cursor, or one reused with other filters, "
    "is a 400.",
}
EXTENSION_PARAMETERS: dict[str, str] = {
    "rcpt_meta": "Extension. List of `key:value`; the key is a dotted path into nested "
    "`rcpt_meta` objects, the value is compared case-sensitively with the stored value's JSON "
    "spelling (`abc`, `42`, `true`, `null`); an array at the path matches when any element "
    "does. Any listed pair matches (OR).",
    "rcpt_tags": "Extension. List of tags; events whose `rcpt_tags` contain any of them.",
}

_ERROR = {"$ref": "#/components/schemas/Errors"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _query_parameter(name: str, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name == "per_page":
        schema = {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PER_PAGE,
            "default": DEFAULT_PER_PAGE,
        }
    elif name == "cursor":
        schema = {"type": "string", "default": "initial"}
    elif name == "delimiter":
        schema = {"type": "string", "default": ","}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _filter_parameters() -> list[dict[str, Any]]:
    every = {**EVENTS_API_PARAMETERS, **EXTENSION_PARAMETERS}
    return [_query_parameter(name, text) for name, text in every.items()]


_QUERY_ERRORS = {
    "400": _error("A parameter is invalid; the description names it."),
    "401": {
        **_error("No API key, or not a valid one."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "414": _error("The URI is longer than 4096 characters, as SparkPost's limit."),
    "429": {
        **_error("Over the per-key rate limit (when one is configured); retry after a while."),
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
    "503": {
        **_error("The database is unavailable; retry."),
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
}
_QUERY_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"apiKeyBasic": []}]


def _search_operation() -> dict[str, Any]:
    return {
        "operationId": "searchMessageEvents",
        "summary": "Search message events (SparkPost's Events API)",
        "description": "Events matching every given filter (AND across parameters, OR within "
        "one), newest first, a page at a time. Unknown parameters are ignored, as SparkPost "
        "ignores them.",
        "tags": ["events"],
        "security": _QUERY_SECURITY,
        "parameters": _filter_parameters(),
        "responses": {
            "200": {
                "description": "A page of events.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}},
            },
            **_QUERY_ERRORS,
        },
    }


def _export_operation() -> dict[str, Any]:
    parameters = [
        p for p in _filter_parameters() if p["name"] not in ("per_page", "cursor", "delimiter")
    ]
    parameters += [
        _query_parameter("delimiter", EVENTS_API_PARAMETERS["delimiter"]),
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "`ndjson` (default): one event per line, as the search route "
            "returns it. `csv`: a header row and one row per event with the columns "
            f"{', '.join(CSV_COLUMNS)}; objects and arrays as JSON text; a text cell starting "
            "with `=`, `+`, `-`, `@`, tab or carriage return, also after leading spaces, is "
            "written with a leading `'` so that spreadsheets do not run it as a formula.",
            "schema": {
                "type": "string",
                "enum": [f.value for f in ExportFormat],
                "default": ExportFormat.NDJSON.value,
            },
        },
        _query_parameter(
            "per_page", "Accepted and ignored, so that a search URL exports by its path alone."
        ),
        _query_parameter(
            "cursor", "Refused (400) unless `initial`: an export is always the whole result set."
        ),
    ]
    stream_headers = {"Content-Disposition": {"schema": {"type": "string"}}}
    return {
        "operationId": "exportMessageEvents",
        "summary": "Export every matching event as NDJSON or CSV (extension)",
        "description": "The whole result set of the search route's filters, newest first, "
        "streamed without paging in constant memory, as of the moment it started (a paging "
        "session run by the server: batches loaded meanwhile are left out). A `cursor` is "
        "refused (400). Too many exports at once on one server are refused (503, with "
        "`Retry-After`). Failures after the first byte, and an export running past the "
        "service's maximum duration, cut the download short (the chunked body does not end), "
        "so a complete file is one whose body ended normally.",
        "tags": ["events"],
        "security": _QUERY_SECURITY,
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "The events, as an attachment.",
                "headers": stream_headers,
                "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            **_QUERY_ERRORS,
        },
    }


def _webhook_operation() -> dict[str, Any]:
    return {
        "operationId": "receiveWebhookBatch",
        "summary": "Receive a SparkPost webhook batch",
        "description": "Answers 200 only once the raw batch is stored in the archive. The ping "
        'batch `[{"msys": {}}]` is answered 200 too.',
        "tags": ["webhooks"],
        "security": [{"webhookBasic": []}, {"webhookBearer": []}, {"webhookToken": []}],
        "parameters": [
            {
                "name": "X-MessageSystems-Batch-ID",
                "in": "header",
                "required": False,
                "description": "SparkPost's batch id; a digest of the body when absent.",
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"type": "object"},
                        "description": 'SparkPost\'s batch: `[{"msys": {<category>: {...}}}]`',
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "Stored in the archive.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "results": {
                                    "type": "object",
                                    "properties": {
                                        "batch_id": {"type": "string"},
                                        "archived": {"type": "boolean"},
                                    },
                                }
                            },
                        }
                    }
                },
            },
            "400": _error("The body is not a JSON array."),
            "401": _error("Bad or missing credentials (SparkPost then refreshes its token)."),
            "413": _error("The body is larger than EVENT_DATA_MAX_BODY_BYTES."),
            "503": _error("The archive is unavailable; SparkPost retries."),
        },
    }


def _token_operation() -> dict[str, Any]:
    form = {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
        },
    }
    oauth_error = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string"},
                        "error_description": {"type": "string"},
                    },
                }
            }
        }
    }
    return {
        "operationId": "issueToken",
        "summary": "OAuth2 client-credentials token for SparkPost's auth_type=oauth2",
        "description": "Client id and secret in the body (JSON or form) or as HTTP basic. The "
        "token is signed and expiring, valid on every task.",
        "tags": ["webhooks"],
        "security": [{}, {"oauthClient": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": form},
                "application/x-www-form-urlencoded": {"schema": form},
            },
        },
        "responses": {
            "200": {
                "description": "A bearer token.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "access_token": {"type": "string"},
                                "token_type": {"type": "string", "enum": ["Bearer"]},
                                "expires_in": {"type": "integer"},
                            },
                        }
                    }
                },
            },
            "400": {"description": "Not a client-credentials request.", **oauth_error},
            "401": {"description": "Unknown client or wrong secret.", **oauth_error},
            "413": {"description": "Body too large.", **oauth_error},
        },
    }


def _public(operation_id: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["operations"],
            "security": [],
            "responses": responses,
        }
    }


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _components() -> dict[str, Any]:
    return {
        "schemas": {
            "Event": {
                "type": "object",
                "description": "One event in the Events API representation: flat, `type` at "
                "the top level, `timestamp` and `injection_time` in ISO-8601 UTC with "
                "milliseconds, every field SparkPost sent.",
                "required": ["type", "timestamp"],
                "properties": {
                    "type": {"type": "string"},
                    "timestamp": {"type": "string"},
                    "event_id": {"type": "string"},
                },
                "additionalProperties": True,
            },
            "Page": {
                "type": "object",
                "required": ["results", "total_count", "links"],
                "additionalProperties": False,
                "properties": {
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                    "total_count": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Every match, as of the first page.",
                    },
                    "links": {
                        "type": "object",
                        "additionalProperties": False,
                        "description": "`next` is absent on the last page.",
                        "properties": {"next": {"type": "string"}},
                    },
                },
            },
            "Errors": {
                "type": "object",
                "description": "SparkPost's error shape.",
                "required": ["errors"],
                "properties": {
                    "errors": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["message", "description", "code"],
                            "properties": {
                                "message": {"type": "string"},
                                "description": {"type": "string"},
                                "code": {"type": "string"},
                            },
                        },
                    }
                },
            },
        },
        "securitySchemes": {
            "apiKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "An API key as the whole header value, no scheme, as SparkPost.",
            },
            "apiKeyBasic": {
                "type": "http",
                "scheme": "basic",
                "description": "HTTP basic with the API key as user and an empty password.",
            },
            "webhookBasic": {
                "type": "http",
                "scheme": "basic",
                "description": "EVENT_DATA_WEBHOOK_USER and EVENT_DATA_WEBHOOK_PASSWORD.",
            },
            "webhookBearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from POST /oauth/token.",
            },
            "webhookToken": {
                "type": "apiKey",
                "in": "header",
                "name": "X-MessageSystems-Webhook-Token",
                "description": "Legacy: EVENT_DATA_WEBHOOK_TOKEN.",
            },
            "oauthClient": {
                "type": "http",
                "scheme": "basic",
                "description": "The OAuth client id and secret as HTTP basic credentials.",
            },
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole description; the same object on every call (treat it as read-only)."""
    any_object = {"type": "object"}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "event-data",
            "version": _version(),
            "description": "A long-term, searchable database of SparkPost events: SparkPost's "
            "Events API with `rcpt_meta` and `rcpt_tags` search and streaming export.",
        },
        "paths": {
            "/webhooks/sparkpost": {"post": _webhook_operation()},
            "/oauth/token": {"post": _token_operation()},
            EVENTS_PATH: {"get": _search_operation()},
            EXPORT_PATH: {"get": _export_operation()},
            "/healthz": _public(
                "healthz",
                "The process is alive",
                {"200": _json_response("Alive.", any_object)},
            ),
            "/readyz": _public(
                "readyz",
                "Database, migrations, bucket and queue",
                {
                    "200": _json_response("Ready.", any_object),
                    "503": _json_response("Not ready; `checks` says what is not.", any_object),
                },
            ),
            "/metrics": _public(
                "metrics",
                "Prometheus metrics",
                {
                    "200": {
                        "description": "Prometheus text format.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            ),
            "/openapi.json": _public(
                "openapi",
                "This description",
                {"200": _json_response("OpenAPI 3.1.", any_object)},
            ),
        },
        "components": _components(),
    }


def _version() -> str:
    try:
        return version("event-data")
    except PackageNotFoundError:
        return "0"


async def openapi_json(request: Request) -> Response:
    return OrjsonResponse(openapi_document())
