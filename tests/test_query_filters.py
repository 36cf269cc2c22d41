"""Every filter of SparkPost's Events API and the metadata extensions, over HTTP: the examples
of sparkpost.md §4.2, each parameter's semantics (product.md Querying and Decisions 3-5), bad
values, and cursors bound to the filters."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import anyio.from_thread
import anyio.to_thread
import asyncpg
import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from event_data.events.words import words
from event_data.synth import EventGenerator, GeneratorConfig
from tests.conftest import SAMPLE_WINDOW, post_batch, query, wait_for_count
from tests.test_query_api import (
    T0,
    assert_error,
    follow_all,
    get,
    identity,
    make_event,
    send,
    with_params,
)


def delivery(event_id: str, **fields: Any) -> dict[str, Any]:
    return make_event("delivery", T0 - int(event_id.strip("e") or 0), event_id, **fields)


async def matching(client: httpx.AsyncClient, **params: str) -> set[str]:
    response = await query(client, **SAMPLE_WINDOW, per_page="10000", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] == len(body["results"])
    return {event["event_id"] for event in body["results"]}


async def load(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    await send(client, "filters", events)
    await wait_for_count(client, len(events))


# --- keyword parameters -----------------------------------------------------------------------


async def test_campaign_words_are_whole_words(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery("e1", campaign_id="blackfriday-specials"),
            delivery("e2", campaign_id="friday-specials"),
            delivery("e3", campaign_id="Black_Friday"),
            delivery("e4", campaign_id="black.friday 2026"),
            delivery("e5", campaign_id="fridays"),
            delivery("e6"),
        ],
    )
    # sparkpost.md §4.2: `blackfriday` matches `blackfriday-specials`, `friday` does not.
    assert await matching(client, campaigns="blackfriday") == {"e1"}
    assert "e1" not in await matching(client, campaigns="friday")
    assert await matching(client, campaigns="friday") == {"e2", "e3", "e4"}
    assert await matching(client, campaigns="FRIDAY") == {"e2", "e3", "e4"}
    assert await matching(client, campaigns="specials") == {"e1", "e2"}
    # Several words: all of them, in any order, whatever separates them.
    assert await matching(client, campaigns="friday black") == {"e3", "e4"}
    assert await matching(client, campaigns="Black-Friday") == {"e3", "e4"}
    assert await matching(client, campaigns="2026_friday") == {"e4"}
    # OR within the parameter.
    assert await matching(client, campaigns="blackfriday,fridays") == {"e1", "e5"}
    assert await matching(client, campaigns="fri") == set()


async def test_subjects_templates_reasons_pools_providers(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery("e1", subject="Reset your password", template_id="pw-reset"),
            delivery("e2", subject="Your password was successfully Reset"),
            delivery("e3", subject="Resetting is easy", template_id="reset_v2"),
            make_event(
                "bounce",
                T0 - 4,
                "e4",
                reason="550 5.1.1 user unknown",
                raw_reason="550 5.1.1 <x@a.b> mailbox gone",
                ip_pool="shared-pool",
                mailbox_provider="Gmail",
                mailbox_provider_region="Europe",
            ),
            delivery(
                "e5",
                ip_pool="dedicated",
                mailbox_provider="Microsoft Outlook",
                mailbox_provider_region="North America",
            ),
        ],
    )
    # sparkpost.md §4.2: `Reset` matches "Reset your password" and "…successfully Reset".
    assert await matching(client, subjects="Reset") == {"e1", "e2"}
    assert await matching(client, subjects="password reset") == {"e1", "e2"}
    assert await matching(client, templates="reset") == {"e1", "e3"}
    assert await matching(client, templates="v2") == {"e3"}
    # `reasons` searches the masked `reason` only, never `raw_reason`.
    assert await matching(client, reasons="unknown") == {"e4"}
    assert await matching(client, reasons="gone") == set()
    assert await matching(client, reasons="5.1.1") == {"e4"}
    assert await matching(client, ip_pools="pool") == {"e4"}
    assert await matching(client, ip_pools="dedicated,shared") == {"e4", "e5"}
    assert await matching(client, mailbox_providers="outlook") == {"e5"}
    assert await matching(client, mailbox_providers="gmail") == {"e4"}
    assert await matching(client, mailbox_provider_regions="america") == {"e5"}
    assert await matching(client, mailbox_provider_regions="europe,north") == {"e4", "e5"}


async def test_domain_words_and_their_fallbacks(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery("e1", recipient_domain="mail.yahoo.com", sending_domain="info.example.com"),
            delivery("e2", recipient_domain="yahoo.co.uk", sending_domain="example.com.uk"),
            delivery("e3", recipient_domain="myyahoo.com", sending_domain="example.org"),
            # Without the fields: the domain of rcpt_to / friendly_from (Decisions 4).
            delivery("e4", rcpt_to="jo@Yahoo.fr", friendly_from="News <news@news.example.com>"),
            delivery("e5", rcpt_to="no-at-sign", friendly_from="nobody"),
        ],
    )
    # sparkpost.md §4.2's examples.
    assert await matching(client, recipient_domains="yahoo") == {"e1", "e2", "e4"}
    assert await matching(client, sending_domains="example.com") == {"e1", "e2", "e4"}
    assert await matching(client, recipient_domains="yahoo.com") == {"e1"}
    assert await matching(client, sending_domains="org") == {"e3"}
    assert await matching(client, sending_domains="news") == {"e4"}
    assert await matching(client, recipient_domains="no,sign") == set()


async def test_ab_tests_match_the_id_and_ab_test_events(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery("e1", ab_test_id="spring-subject-test", ab_test_version="2"),
            delivery("e2", ab_test_id="spring-subject-test", ab_test_version="3"),
            delivery("e3", ab_test_id="autumn-test", ab_test_version="2"),
            make_event(
                "ab_test_completed",
                T0 - 4,
                "e4",
                ab_test={"id": "spring-subject-test", "name": "Spring", "version": 2},
            ),
            delivery("e5"),
        ],
    )
    assert await matching(client, ab_tests="spring") == {"e1", "e2", "e4"}
    assert await matching(client, ab_tests="spring", ab_test_versions="2") == {"e1", "e4"}
    assert await matching(client, ab_tests="test", ab_test_versions="2,3") == {
        "e1",
        "e2",
        "e3",
        "e4",
    }
    assert await matching(client, ab_tests="autumn", ab_test_versions="3") == set()


async def test_words_beyond_ascii(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery("e1", subject="Été à Zürich: Straße gesperrt"),
            delivery("e2", subject="ΣΑΣ新聞-速報"),
            delivery("e3", subject="Zurich summer"),
        ],
    )
    assert await matching(client, subjects="zürich") == {"e1"}
    assert await matching(client, subjects="ÉTÉ straße") == {"e1"}
    assert await matching(client, subjects="σας新聞") == {"e2"}
    assert await matching(client, subjects="速報") == {"e2"}
    assert await matching(client, subjects="zurich") == {"e3"}


WORD_SAMPLES = [
    "Black_Friday",
    "blackfriday-specials",
    "  -lead-trail-  ",
    "a..b__c--d  e",
    "Straße ÉTÉ-été",
    "ΣΑΣ x ς",
    "İstanbul",
    "a²b Ⅻ ٣٣ ½ 😀x",
    "日本語テキスト、かな",
    "ǅemal ﬁne",
    "tab\tnew\nline",
    "mail.yahoo.co.uk",
    "e\u0301 combining",
    "",
    "___",
]


async def test_sql_and_python_split_words_alike(db: asyncpg.Connection) -> None:
    for text in WORD_SAMPLES:
        in_sql = await db.fetchval("SELECT event_words($1)", text)
        assert tuple(w for w in in_sql if w) == words(text), text


# --- exact parameters -------------------------------------------------------------------------


async def test_exact_parameters(client: httpx.AsyncClient) -> None:
    common = {"customer_id": "1"}
    await load(
        client,
        [
            delivery(
                "e1",
                rcpt_to="jo@example.com",
                friendly_from="News@Shop.example",
                message_id="000443ee14578172be22",
                transmission_id="65832150921904138",
                sending_ip="192.0.2.1",
                subaccount_id="101",
                **common,
            ),
            delivery(
                "e2",
                rcpt_to="JO@EXAMPLE.COM",
                friendly_from="news@shop.example",
                message_id="000443ee14578172be23",
                transmission_id="65832150921904139",
                sending_ip="192.0.2.2",
                subaccount_id=102,
                **common,
            ),
            delivery("e3", rcpt_to="jo@example.com.au", friendly_from="other@shop.example"),
            make_event("bounce", T0 - 4, "e4", bounce_class="10", rcpt_to="x@example.com"),
            make_event("delay", T0 - 5, "e5", bounce_class="22"),
        ],
    )
    # Addresses: case-insensitive, whole value (Decisions 4).
    assert await matching(client, recipients="Jo@Example.com") == {"e1", "e2"}
    assert await matching(client, recipients="example.com") == set()
    assert await matching(client, recipients="jo@example.com.au,x@example.com") == {"e3", "e4"}
    assert await matching(client, from_addresses="NEWS@shop.example") == {"e1", "e2"}
    assert await matching(client, messages="000443ee14578172be22") == {"e1"}
    assert await matching(client, messages="000443ee14578172be2") == set()
    assert await matching(client, transmissions="65832150921904139") == {"e2"}
    assert await matching(client, sending_ips="192.0.2.1,192.0.2.2") == {"e1", "e2"}
    assert await matching(client, sending_ips="192.0.2") == set()
    assert await matching(client, subaccounts="101") == {"e1"}
    assert await matching(client, subaccounts="102,7") == {"e2"}
    assert await matching(client, bounce_classes="10") == {"e4"}
    assert await matching(client, bounce_classes="10,22") == {"e4", "e5"}
    assert await matching(client, bounce_classes="99999") == set()
    assert await matching(client, event_ids="e1,e5") == {"e1", "e5"}
    assert await matching(client, event_ids="e") == set()


async def test_or_within_a_parameter_and_across_parameters(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery("e1", campaign_id="spring", rcpt_to="a@x.com"),
            delivery("e2", campaign_id="spring", rcpt_to="b@x.com"),
            delivery("e3", campaign_id="autumn", rcpt_to="a@x.com"),
            make_event("open", T0 - 4, "e4", campaign_id="spring", rcpt_to="a@x.com"),
        ],
    )
    assert await matching(client, campaigns="spring", recipients="a@x.com") == {"e1", "e4"}
    assert await matching(
        client, campaigns="spring,autumn", recipients="a@x.com", events="delivery"
    ) == {"e1", "e3"}
    assert await matching(client, campaigns="spring|autumn", delimiter="|") == {
        "e1",
        "e2",
        "e3",
        "e4",
    }
    # Unknown parameters, including other spellings of known ones, are ignored.
    assert await matching(client, campaign_ids="autumn", Campaigns="autumn") == {
        "e1",
        "e2",
        "e3",
        "e4",
    }


# --- extensions -------------------------------------------------------------------------------


async def test_rcpt_meta_paths_spellings_and_arrays(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery(
                "e1",
                rcpt_meta={
                    "customer": {"id": 42, "tier": "Gold"},
                    "interests": ["shoes", "hats", 7],
                    "opted_in": True,
                    "note": None,
                    "url": "https://x.example/a?b=c",
                },
            ),
            delivery(
                "e2",
                rcpt_meta={
                    "customer": {"id": "42", "tier": "gold"},
                    "interests": "shoes",
                    "opted_in": "true",
                    "score": 9.5,
                },
            ),
            delivery("e3", rcpt_meta={"customer.id": 42, "customer": [{"id": 42}]}),
            delivery("e4", rcpt_meta={}),
            delivery("e5"),
        ],
    )
    # The value is compared with the stored value's JSON spelling (Decisions 5).
    assert await matching(client, rcpt_meta="customer.id:42") == {"e1", "e2"}
    assert await matching(client, rcpt_meta="customer.tier:Gold") == {"e1"}
    assert await matching(client, rcpt_meta="customer.tier:gold") == {"e2"}
    assert await matching(client, rcpt_meta="opted_in:true") == {"e1", "e2"}
    assert await matching(client, rcpt_meta="note:null") == {"e1"}
    assert await matching(client, rcpt_meta="score:9.5") == {"e2"}
    # An array at the path matches when any element does.
    assert await matching(client, rcpt_meta="interests:shoes") == {"e1", "e2"}
    assert await matching(client, rcpt_meta="interests:7") == {"e1"}
    assert await matching(client, rcpt_meta="interests:sho") == set()
    # The value may hold the delimiter's neighbours and colons.
    assert await matching(client, rcpt_meta="url:https://x.example/a?b=c") == {"e1"}
    # OR within the parameter, AND with others.
    assert await matching(client, rcpt_meta="customer.tier:Gold,score:9.5") == {"e1", "e2"}
    assert await matching(client, rcpt_meta="customer.id:42", event_ids="e2,e3") == {"e2"}
    assert await matching(client, rcpt_meta="customer:42") == set()


async def test_rcpt_tags_match_any_listed_tag(client: httpx.AsyncClient) -> None:
    await load(
        client,
        [
            delivery("e1", rcpt_tags=["vip", "newsletter"]),
            delivery("e2", rcpt_tags=["newsletter"]),
            delivery("e3", rcpt_tags=[]),
            delivery("e4", rcpt_tags=["VIP"]),
            delivery("e5"),
        ],
    )
    assert await matching(client, rcpt_tags="vip") == {"e1"}
    assert await matching(client, rcpt_tags="vip,newsletter") == {"e1", "e2"}
    assert await matching(client, rcpt_tags="VIP") == {"e4"}
    assert await matching(client, rcpt_tags="news") == set()


# --- bad values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("bounce_classes", "ten"),
        ("bounce_classes", "10,1.5"),
        ("subaccounts", "x"),
        ("subaccounts", "99999999999"),
        ("subaccounts", "٣"),
        ("ab_test_versions", "v2"),
        ("campaigns", "---"),
        ("subjects", "!!"),
        ("rcpt_meta", "no-colon"),
        ("rcpt_meta", ":value"),
        ("rcpt_meta", "a..b:value"),
        ("recipients", "a\x00b@example.com"),
        ("rcpt_tags", "vip\x00"),
        ("rcpt_meta", "a:\x00"),
        ("campaigns", "spring\x00"),
    ],
)
async def test_bad_values_are_400_naming_the_parameter(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    params = {name: value}
    if name == "ab_test_versions":
        params["ab_tests"] = "x"
    assert_error(await query(client, **SAMPLE_WINDOW, **params), 400, name)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rcpt_meta", "a:1e99999"),
        ("rcpt_meta", "a:1e999"),
        ("rcpt_meta", "a:-0.0000000000000000000000001"),
        ("rcpt_meta", 'a"b.c\\d:"quoted"'),
        ("rcpt_meta", "a:" + "9" * 3000),
        ("rcpt_tags", '"]}'),
        ("recipients", "' OR '1'='1"),
        ("subjects", "😀 é %"),
        ("bounce_classes", "-32769,32768,2147483647"),
        ("subaccounts", "-2147483648"),
        ("sending_ips", "::1"),
    ],
)
async def test_odd_values_are_answered_not_failed(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await query(client, **SAMPLE_WINDOW, **{name: value})
    assert response.status_code == 200, response.text
    assert response.json()["total_count"] == 0


async def test_ab_test_versions_without_ab_tests_is_400(client: httpx.AsyncClient) -> None:
    assert_error(
        await query(client, **SAMPLE_WINDOW, ab_test_versions="1"), 400, "ab_test_versions"
    )


async def test_every_bad_parameter_is_named(client: httpx.AsyncClient) -> None:
    response = await query(
        client, **SAMPLE_WINDOW, bounce_classes="x", subaccounts="y", per_page="0", rcpt_meta="z"
    )
    assert_error(response, 400)
    descriptions = " ".join(e["description"] for e in response.json()["errors"])
    for name in ("bounce_classes", "subaccounts", "per_page", "rcpt_meta"):
        assert name in descriptions


# --- cursors ----------------------------------------------------------------------------------


async def test_cursor_is_bound_to_every_filter(client: httpx.AsyncClient) -> None:
    await load(client, [delivery(f"e{i}", campaign_id="spring", rcpt_tags=["a"]) for i in range(5)])
    first = await query(client, **SAMPLE_WINDOW, per_page="2", campaigns="spring", rcpt_tags="a")
    link = first.json()["links"]["next"]
    for changes in ({"campaigns": "autumn"}, {"rcpt_tags": "b"}, {"recipients": "a@b.c"}):
        assert_error(await get(client, with_params(link, **changes)), 400, "cursor")
    # The same filters spelled differently keep the cursor.
    same = with_params(link, campaigns="SPRING,spring", rcpt_tags="a")
    response = await get(client, same)
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 2


# --- paging while batches load ----------------------------------------------------------------


async def test_filtered_paging_while_batches_load_returns_each_match_once(
    client: httpx.AsyncClient,
) -> None:
    config = GeneratorConfig(
        seed=21,
        start=datetime(2026, 5, 1, tzinfo=UTC),
        end=datetime(2026, 5, 1, 6, tzinfo=UTC),
        batch_size=150,
        campaigns=4,
    )
    bodies = list(EventGenerator(config).batch_bytes(1500))
    window = {"from": "2026-04-30T00:00Z", "to": "2026-05-02T00:00Z"}
    campaigns = Counter(
        words(element["msys"][category]["campaign_id"])[0]
        for body in bodies
        for element in orjson.loads(body)
        for category in element["msys"]
        if isinstance(element["msys"][category].get("campaign_id"), str)
    )
    params = {**window, "campaigns": campaigns.most_common(1)[0][0], "events": "delivery,open"}

    for i, body in enumerate(bodies[:4]):
        assert (await post_batch(client, body, batch_id=f"early-{i}")).status_code == 200
    await wait_for_count(client, sum(len(orjson.loads(b)) for b in bodies[:4]), **window)
    everything = (await query(client, **params, per_page="10000")).json()
    before = Counter(identity(e) for e in everything["results"])
    assert before.total() == everything["total_count"] > 20

    first = await query(client, **params, per_page="7")
    assert first.status_code == 200, first.text

    async def load_the_rest() -> None:
        for i, body in enumerate(bodies[4:]):
            assert (await post_batch(client, body, batch_id=f"late-{i}")).status_code == 200
            await asyncio.sleep(0.05)

    loading = asyncio.create_task(load_the_rest())
    results, totals = await follow_all(client, first)
    await loading
    assert Counter(identity(e) for e in results) == before
    assert set(totals) == {before.total()}

    # Once everything is in, a new paging session returns every match exactly once.
    await wait_for_count(client, sum(len(orjson.loads(b)) for b in bodies), **window)
    complete = (await query(client, **params, per_page="10000")).json()
    assert complete["total_count"] > before.total()
    paged, _ = await follow_all(client, await query(client, **params, per_page="7"))
    assert Counter(identity(e) for e in paged) == Counter(identity(e) for e in complete["results"])


async def test_sql_and_python_split_any_text_alike(db: asyncpg.Connection) -> None:
    # Characters both Unicode databases know (Python's and ICU's may differ in version); NUL
    # cannot be stored in PostgreSQL text.
    alphabet = st.characters(exclude_categories=("Cs", "Cn"), exclude_characters="\x00")

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.text(alphabet=alphabet, max_size=40))
    def check(text: str) -> None:
        in_sql = anyio.from_thread.run(db.fetchval, "SELECT event_words($1)", text)
        assert tuple(w for w in in_sql if w) == words(text)

    await anyio.to_thread.run_sync(check)
