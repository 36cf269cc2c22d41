"""``GET /api/v1/events/message``: SparkPost's Events API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from event_data.api.auth import require_api_key
from event_data.api.responses import OrjsonResponse
from event_data.services import Services


async def search_events(request: Request) -> Response:
    services: Services = request.state.services
    key = require_api_key(request, services.settings.api_keys)
    services.rate_limiter.check(key)
    # Repeated parameters: the last one wins, as in most query-string parsers.
    page = await services.search.page(dict(request.query_params))
    links = {"next": page.next_link} if page.next_link else {}
    return OrjsonResponse(
        {"results": page.results, "total_count": page.total_count, "links": links}
    )
