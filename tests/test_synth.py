"""The synthetic webhook generator: determinism, every SparkPost event type, field shapes."""

from __future__ import annotations

import argparse
import json
import re
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from event_data.events.types import CATEGORY_TYPES, ENRICHED_FIELDS
from event_data.synth import EventGenerator, GeneratorConfig
from event_data.synth import cli as synth_cli

SAMPLE_BATCH = (
    Path(__file__).resolve().parent / "fixtures" / "sparkpost" / "webhook-batch-all-types-2016.json"
)

# sparkpost.md §2.1 / §3.1.
# Numbers that webhooks send as strings (sparkpost.md §2.6).
STRING_NUMBERS = (
    "bounce_class",
    "num_retries",
    "queue_time",
    "msg_size",
    "subaccount_id",
    "customer_id",
    "transmission_id",
    "template_version",
    "error_code",
)
# Fixture keys that only some messages of a type carry: SMS fields (SMS messages), device_token
# (push messages) and rcpt_type (cc, bcc and archive copies only).
CONDITIONAL_KEYS = {"device_token", "rcpt_type"}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|\+00:00)$")
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 31, tzinfo=UTC)


def _flatten(batches: list[list[dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """(category, event) for every batch element."""
    out = []
    for batch in batches:
        for element in batch:
            ((category, event),) = element["msys"].items()
            out.append((category, event))
    return out


def _by_type(events: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, event in events:
        grouped[event["type"]].append(event)
    return grouped


def _epoch(value: str | int) -> int:
    if isinstance(value, int):
        return value
    if value.isdigit():
        return int(value)
    return int(datetime.fromisoformat(value).timestamp())


@pytest.fixture(scope="module")
def rare_batches() -> list[list[dict[str, Any]]]:
    """A sample where uncommon types are boosted so that every type shows up."""
    config = GeneratorConfig(seed=3, start=START, end=END, batch_size=500, rare_scale=20)
    return list(EventGenerator(config).batches(40_000))


@pytest.fixture(scope="module")
def rare_events(rare_batches: list[list[dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return _flatten(rare_batches)


@pytest.fixture(scope="module")
def real_events() -> list[tuple[str, dict[str, Any]]]:
    """A sample with real-life proportions."""
    config = GeneratorConfig(seed=11, start=START, end=END)
    return _flatten(list(EventGenerator(config).batches(50_000)))


def test_same_seed_gives_the_same_bytes() -> None:
    config = GeneratorConfig(seed=42, batch_size=250)
    first = list(EventGenerator(config).batch_bytes(3000))
    second = list(EventGenerator(GeneratorConfig(seed=42, batch_size=250)).batch_bytes(3000))
    again = list(EventGenerator(config).batch_bytes(3000))
    assert first == second == again
    assert first != list(EventGenerator(GeneratorConfig(seed=43, batch_size=250)).batch_bytes(3000))


def test_every_category_and_type_appears(rare_events: list[tuple[str, dict[str, Any]]]) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for category, event in rare_events:
        seen[category].add(event["type"])
    for category, types in CATEGORY_TYPES.items():
        missing = set(types) - seen[category]
        assert not missing, f"{category} lacks {missing}"


def test_mix_is_dominated_by_injection_delivery_open_click(
    real_events: list[tuple[str, dict[str, Any]]],
) -> None:
    counts = Counter(event["type"] for _, event in real_events)
    main = sum(counts[t] for t in ("injection", "delivery", "open", "initial_open", "click"))
    assert main / len(real_events) > 0.9
    # SparkPost's rule of thumb is about 2.5 events per message (sparkpost.md §2.4).
    assert 2.2 < len(real_events) / counts["injection"] < 3.0
    assert counts["delivery"] > 10 * counts["bounce"] > 0
    assert counts["spam_complaint"] < counts["bounce"]


def test_bounce_classes_are_weighted_like_real_life(
    real_events: list[tuple[str, dict[str, Any]]],
) -> None:
    classes = Counter(int(e["bounce_class"]) for _, e in real_events if e["type"] == "bounce")
    total = sum(classes.values())
    hard = classes[10] + classes[30]
    soft = sum(classes[c] for c in (20, 21, 22, 23, 24))
    block = sum(classes[c] for c in (50, 51, 52, 53, 54))
    assert hard / total > 0.3
    for share in (soft, block, classes[25], classes[1]):
        assert share > 0
    assert hard > soft
    assert hard > block


def test_numbers_are_strings_where_webhooks_send_strings(
    rare_events: list[tuple[str, dict[str, Any]]],
) -> None:
    for category, event in rare_events:
        if category == "ingest_event":
            # The Ingest API reports ids and counters as numbers.
            assert isinstance(event["customer_id"], int)
            assert isinstance(event["number_succeeded"], int)
            continue
        for key in STRING_NUMBERS:
            if key in event:
                assert isinstance(event[key], str), (event["type"], key)
                assert event[key].isdigit(), (event["type"], key, event[key])
        if "sms_segments" in event:
            assert isinstance(event["sms_segments"], int)
        for flag in ("click_tracking", "open_tracking", "initial_pixel", "amp_enabled"):
            if flag in event:
                assert isinstance(event[flag], bool)
        if "transactional" in event:
            assert event["transactional"] in ("0", "1")
        if category == "ab_test_event":
            assert isinstance(event["ab_test"]["version"], int)


def test_geo_ip_coordinates_come_as_numbers_and_as_strings(
    rare_events: list[tuple[str, dict[str, Any]]],
) -> None:
    kinds: Counter[str] = Counter()
    for category, event in rare_events:
        if category == "track_event":
            latitude = event["geo_ip"]["latitude"]
            kinds[type(latitude).__name__] += 1
            float(latitude)
    assert kinds["float"] > 0
    assert kinds["str"] > 0


def test_event_ids(rare_events: list[tuple[str, dict[str, Any]]]) -> None:
    ids = []
    for category, event in rare_events:
        if event["type"] == "sms_status":
            assert "event_id" not in event
            continue
        event_id = event["event_id"]
        ids.append(event_id)
        if category in ("ab_test_event", "ingest_event"):
            assert str(uuid.UUID(event_id)) == event_id
        else:
            assert re.fullmatch(r"[1-9]\d{16,17}", event_id), event_id
    assert len(ids) == len(set(ids))


def test_message_ids_are_twenty_hex_digits(rare_events: list[tuple[str, dict[str, Any]]]) -> None:
    message_ids = [e["message_id"] for _, e in rare_events if "message_id" in e]
    assert message_ids
    assert all(re.fullmatch(r"[0-9a-f]{20}", m) for m in message_ids)


def test_timestamps_use_webhook_formats_within_the_window(
    rare_events: list[tuple[str, dict[str, Any]]],
) -> None:
    formats: Counter[str] = Counter()
    for category, event in rare_events:
        value = event["timestamp"]
        if isinstance(value, int):
            formats["int"] += 1
        elif value.isdigit():
            formats["epoch string"] += 1
        else:
            assert ISO_TIME.match(value), value
            assert category in ("gen_event", "message_event", "ingest_event"), event["type"]
            if category != "ingest_event":
                assert event["type"] == "generation_failure" or category == "gen_event"
                assert ISO_TIME.match(event["tdate"])
            formats["iso"] += 1
        assert START.timestamp() <= _epoch(value) < END.timestamp()
    assert formats["epoch string"] > 0.85 * len(rare_events)
    assert formats["int"] > 0
    assert 0 < formats["iso"] < 0.05 * len(rare_events)


def test_stream_is_roughly_ordered_with_some_late_events(
    real_events: list[tuple[str, dict[str, Any]]],
) -> None:
    newest = 0
    late = 0
    for _, event in real_events:
        moment = _epoch(event["timestamp"])
        if moment < newest - 600:
            late += 1
        newest = max(newest, moment)
    assert 0 < late < 0.1 * len(real_events)


def test_some_engagement_events_lack_enriched_fields(
    rare_events: list[tuple[str, dict[str, Any]]],
) -> None:
    track = [e for c, e in rare_events if c == "track_event"]
    bare = [e for e in track if not ENRICHED_FIELDS & e.keys()]
    full = [e for e in track if e.keys() >= ENRICHED_FIELDS]
    assert len(bare) + len(full) == len(track)
    assert 0.02 < len(bare) / len(track) < 0.1
    assert all("message_id" in e and "rcpt_to" in e for e in bare)


def test_events_of_a_message_share_its_fields(
    real_events: list[tuple[str, dict[str, Any]]],
) -> None:
    shared = (
        "transmission_id",
        "campaign_id",
        "template_id",
        "subject",
        "rcpt_to",
        "rcpt_meta",
        "rcpt_tags",
        "friendly_from",
        "ip_pool",
        "sending_ip",
        "sending_domain",
        "recipient_domain",
        "mailbox_provider",
        "mailbox_provider_region",
    )
    values: dict[tuple[str, str], Any] = {}
    counts = Counter(e["message_id"] for _, e in real_events if "message_id" in e)
    assert sum(1 for n in counts.values() if n >= 3) > 1000
    for _, event in real_events:
        message_id = event.get("message_id")
        if message_id is None:
            continue
        for key in shared:
            if key in event:
                assert values.setdefault((message_id, key), event[key]) == event[key], key


def test_recipients_look_real(real_events: list[tuple[str, dict[str, Any]]]) -> None:
    addresses: Counter[str] = Counter()
    raw_differs = 0
    for _, event in real_events:
        if event["type"] != "injection":
            continue
        rcpt_to, raw = event["rcpt_to"], event["raw_rcpt_to"]
        assert rcpt_to == rcpt_to.lower() == raw.lower()
        assert rcpt_to.endswith("@" + event["recipient_domain"])
        raw_differs += raw != rcpt_to
        addresses[rcpt_to] += 1
    assert raw_differs > 0
    domains = Counter(a.split("@")[1] for a in addresses.elements())
    assert domains.most_common(1)[0][0] == "gmail.com"
    assert {"yahoo.com", "yahoo.co.uk", "mail.yahoo.com", "outlook.com", "hotmail.com"} <= set(
        domains
    )
    # Zipf-like: a few heavy recipients, a long tail of one-off ones.
    assert addresses.most_common(1)[0][1] >= 5
    assert sum(1 for n in addresses.values() if n == 1) > len(addresses) / 2


def test_campaign_names_and_subjects_share_words(
    real_events: list[tuple[str, dict[str, Any]]],
) -> None:
    campaigns = {e["campaign_id"] for _, e in real_events if e["type"] == "injection"}
    subjects = {e["subject"] for _, e in real_events if e["type"] == "injection"}
    words = Counter(
        word.lower() for name in campaigns for word in set(re.split(r"[\s_-]+", name)) if word
    )
    assert len(campaigns) > 20
    assert max(words.values()) >= 3
    subject_words = Counter(word.lower() for s in subjects for word in set(s.split()))
    assert subject_words["your"] >= 5


def test_rcpt_meta_is_nested(real_events: list[tuple[str, dict[str, Any]]]) -> None:
    metas = [e["rcpt_meta"] for _, e in real_events if e["type"] == "injection"]
    nested = [m for m in metas if any(isinstance(v, dict) for v in m.values())]
    with_lists = [m for m in metas if any(isinstance(v, list) for v in m.values())]
    assert len(nested) > 0.8 * len(metas)
    assert with_lists
    assert any(m == {} for m in metas)


def test_batch_sizes_and_serialised_bodies() -> None:
    generator = EventGenerator(GeneratorConfig(seed=5, batch_size=1000))
    batches = list(generator.batches(2500))
    assert [len(b) for b in batches] == [1000, 1000, 500]
    bodies = list(generator.batch_bytes(2500))
    assert [orjson.loads(b) for b in bodies] == batches
    assert list(generator.batches(0)) == []


def test_some_elements_carry_extra_top_level_keys(
    rare_batches: list[list[dict[str, Any]]],
) -> None:
    extra = [e for batch in rare_batches for e in batch if e.keys() != {"msys"}]
    assert 0 < len(extra) < 0.01 * sum(len(b) for b in rare_batches)
    assert all(e.keys() == {"msys", "cust"} for e in extra)


def test_generated_events_have_the_fixture_fields_of_their_type(
    rare_events: list[tuple[str, dict[str, Any]]],
) -> None:
    generated = _by_type(rare_events)
    sample = json.loads(SAMPLE_BATCH.read_text())
    for element in sample:
        ((_, fixture_event),) = element["msys"].items()
        kind = fixture_event["type"]
        events = generated[kind]
        assert events, kind
        conditional = {k for k in fixture_event if k in CONDITIONAL_KEYS or k.startswith("sms_")}
        expected = fixture_event.keys() - conditional
        complete = [e for e in events if expected <= e.keys()]
        missing = Counter(k for e in events for k in expected - e.keys())
        assert len(complete) > len(events) / 2, (kind, missing)
        for key in conditional:
            assert any(key in e for e in events), (kind, key)


def test_serialised_size_is_like_real_events() -> None:
    body_bytes = sum(len(b) for b in EventGenerator(GeneratorConfig()).batch_bytes(20_000))
    assert 1000 <= body_bytes / 20_000 <= 1300


def test_message_events_are_bigger_than_relay_and_ab_test_events(
    rare_events: list[tuple[str, dict[str, Any]]],
) -> None:
    sizes: dict[str, list[int]] = defaultdict(list)
    for _, event in rare_events:
        sizes[event["type"]].append(len(orjson.dumps(event)))

    def mean(kind: str) -> float:
        return sum(sizes[kind]) / len(sizes[kind])

    for big in ("injection", "delivery", "bounce"):
        for small in ("relay_injection", "relay_delivery", "ab_test_completed"):
            assert mean(big) > 2 * mean(small), (big, small)


def test_config_rejects_naive_or_empty_windows() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        GeneratorConfig(start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="after start"):
        GeneratorConfig(start=END, end=START)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="event-data")
    synth_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_writes_one_file_per_batch(tmp_path: Path) -> None:
    args = _parse(
        [
            "generate",
            "--seed",
            "4",
            "--events",
            "2500",
            "--batch-size",
            "1000",
            "--out",
            str(tmp_path),
        ]
    )
    assert args.func(args) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["batch-000001.json", "batch-000002.json", "batch-000003.json"]
    config = GeneratorConfig(
        seed=4, start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 31, tzinfo=UTC)
    )
    expected = list(EventGenerator(config).batch_bytes(2500))
    assert [(tmp_path / name).read_bytes() for name in files] == expected


def test_cli_writes_one_batch_per_line_to_stdout(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    args = _parse(
        [
            "generate",
            "--events",
            "1200",
            "--batch-size",
            "500",
            "--start",
            "2025-06-01",
            "--days",
            "2",
        ]
    )
    assert args.func(args) == 0
    lines = capsysbinary.readouterr().out.splitlines()
    assert [len(orjson.loads(line)) for line in lines] == [500, 500, 200]
    for line in lines:
        for element in orjson.loads(line):
            ((_, event),) = element["msys"].items()
            moment = _epoch(event["timestamp"])
            assert datetime(2025, 6, 1, tzinfo=UTC).timestamp() <= moment
            assert moment < datetime(2025, 6, 3, tzinfo=UTC).timestamp()
