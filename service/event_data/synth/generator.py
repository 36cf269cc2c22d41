"""Deterministic generator of realistic SparkPost webhook batches.

The stream is a sequence of *slots*. Each slot first emits the events that earlier flows scheduled
for it, then starts one new flow: usually an email message (injection, then delivery or a bounce,
then maybe opens and clicks), sometimes a relay conversation, an SMS or push message, a generation
or policy rejection, an A/B test result or an ingest report. Follow-up events wait on a timing
wheel a bounded number of slots ahead, so memory stays flat however many events are generated and
events of many messages interleave the way live traffic does.

Event time follows the stream position: the n-th of N events happens near
``start + (end - start) * n / N``. An event scheduled a few seconds after its predecessor keeps
that gap when the stream is sparse and is pulled up to the stream clock when it is dense; a few
events are held back on purpose and arrive late.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final

import orjson

from event_data.events.types import ENRICHED_FIELDS
from event_data.synth import catalog
from event_data.synth.world import Campaign, IdSource, Recipient, World, build_world, random_ip

Event = dict[str, Any]
_Handler = Callable[[Any, int], Event]

# How far ahead (in slots) follow-ups can be scheduled: a power of two so a mask finds the bucket.
_WHEEL_SLOTS: Final = 8192
_WHEEL_MASK: Final = _WHEEL_SLOTS - 1
# Roughly what the path probabilities below yield; SparkPost quotes ~2.5 events per message
# (sparkpost.md §2.4). Only used to turn delays in seconds into slots.
_EVENTS_PER_SLOT: Final = 2.6

# Share of slots that start each uncommon flow, before ``rare_scale``; the rest are email.
_FLOW_RATES: Final = (
    ("ab_test", 0.00005),
    ("ingest", 0.0001),
    ("relay", 0.004),
    ("sms", 0.001),
    ("push", 0.001),
    ("generation", 0.003),
    ("policy", 0.003),
)
_P_BOUNCE: Final = 0.035
_P_DELAY: Final = 0.035
_P_DELAY_THEN_DELIVERED: Final = 0.75
_P_DELAY_AGAIN: Final = 0.15
_P_OPENED: Final = 0.25
_P_OPEN_AFTER_INITIAL: Final = 0.85
_P_REOPEN: Final = 0.25
_P_CLICK: Final = 0.25
_P_RECLICK: Final = 0.2
_P_AMP_MESSAGE: Final = 0.04
# Rare outcomes, before ``rare_scale``.
_P_SPAM_COMPLAINT: Final = 0.0008
_P_OUT_OF_BAND: Final = 0.003
_P_LIST_UNSUBSCRIBE: Final = 0.002
_P_LINK_UNSUBSCRIBE: Final = 0.02
_P_GENERATION_FAILURE: Final = 0.4
# A real generation_failure arrived under message_event instead of gen_event (sparkpost.md §2.1).
_P_GEN_AS_MESSAGE_EVENT: Final = 0.1
# A real generation_failure carried an ISO timestamp and a tdate (sparkpost.md §2.6).
_P_GEN_ISO_TIMESTAMP: Final = 0.5
# Recipient index = population * u ** skew: a few mailboxes get mail daily, most rarely.
_RECIPIENT_SKEW: Final = 2.5
# Share of messages sent without metadata or tags (``{}`` and ``[]``, as in the 2017 samples).
_P_EMPTY_META: Final = 0.05

# Fields SparkPost leaves off engagement events for old messages (sparkpost.md §2.6).
# Generation events describe a message that was never built, so it has no id or injection time.
_NOT_ON_GENERATION: Final = frozenset({"message_id", "injection_time", "msg_from"})

_EMAIL: Final = 0
_PUSH: Final = 1
_SMS: Final = 2


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """What to generate. The same config (seed included) always yields the same bytes.

    ``rare_scale`` multiplies the odds of every uncommon event (relay, SMS, generation and policy
    rejections, complaints, unsubscribes, out-of-band bounces, A/B test and ingest events), so a
    small sample can show every type; 1.0 keeps real-life proportions.
    """

    seed: int = 0
    # Event timestamps fall in [start, end); both must be timezone-aware.
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    end: datetime = datetime(2026, 1, 31, tzinfo=UTC)
    batch_size: int = 1000
    # Size of the recipient population (drawn Zipf-like), and of the sender side.
    recipients: int = 250_000
    campaigns: int = 80
    subaccounts: int = 8
    customers: int = 1
    rare_scale: float = 1.0
    # Share of engagement events without the enriched fields (sparkpost.md §2.6).
    enrichment_gap_rate: float = 0.05
    # Share of follow-up events held back so they arrive after newer ones.
    late_rate: float = 0.02
    # Share of timestamps sent as a bare integer instead of a string.
    int_timestamp_rate: float = 0.05
    # Share of batch elements with a key beside ``msys`` (``"cust": {"id": ...}``).
    extra_key_rate: float = 0.002

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if (self.end - self.start).total_seconds() < 1:
            raise ValueError("end must be at least one second after start")
        for name in ("batch_size", "recipients", "campaigns", "subaccounts", "customers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("enrichment_gap_rate", "late_rate", "int_timestamp_rate", "extra_key_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.rare_scale < 0:
            raise ValueError("rare_scale must not be negative")


class EventGenerator:
    """Generates SparkPost webhook batches (``[{"msys": {category: event}}, ...]``).

    Each call starts over from the seed, so calling twice gives identical output.
    """

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config

    def events(self, total_events: int) -> Iterator[Event]:
        """Batch elements one by one, ``total_events`` of them, in stream order."""
        if total_events < 0:
            raise ValueError("total_events must not be negative")
        return _Stream(self.config, total_events).elements()

    def batches(self, total_events: int) -> Iterator[list[Event]]:
        """Webhook bodies of ``batch_size`` elements (the last may be shorter).

        Events of one message share nested objects (``rcpt_meta``, ``rcpt_tags``, ``geo_ip``);
        copy an event before mutating it.
        """
        elements = self.events(total_events)
        size = self.config.batch_size
        while batch := list(islice(elements, size)):
            yield batch

    def batch_bytes(self, total_events: int) -> Iterator[bytes]:
        """The same batches serialised as SparkPost POSTs them."""
        dumps = orjson.dumps
        for batch in self.batches(total_events):
            yield dumps(batch)


class _Message:
    """What the events of one message share, plus its delivery state."""

    __slots__ = (
        "_bare",
        "campaign",
        "channel",
        "common",
        "device_token",
        "inj_ts",
        "msg_size",
        "mx_ip",
        "order",
        "rcpt",
        "retries",
        "sending_ip",
        "sms",
    )

    def __init__(self, campaign: Campaign, rcpt: Recipient, channel: int) -> None:
        self.campaign = campaign
        self.rcpt = rcpt
        self.channel = channel
        self.common: Event = {}
        self._bare: Event | None = None
        self.device_token = ""
        self.sms: Event = {}
        self.inj_ts = 0
        self.mx_ip = ""
        self.msg_size = ""
        self.order = ""
        self.retries = 0
        self.sending_ip = ""

    def bare(self) -> Event:
        """The shared fields without the enriched ones, as on engagement with old messages."""
        if self._bare is None:
            self._bare = {k: v for k, v in self.common.items() if k not in ENRICHED_FIELDS}
        return self._bare


class _Relay:
    """One inbound relay message on its way to the customer's relay webhook."""

    __slots__ = ("common", "inj_ts", "retries", "target_ip")

    def __init__(self, common: Event, inj_ts: int, target_ip: str) -> None:
        self.common = common
        self.inj_ts = inj_ts
        self.retries = 0
        self.target_ip = target_ip


def _table(weights: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """Expand (value, weight) pairs so a uniform index picks by weight."""
    return tuple(value for value, weight in weights for _ in range(weight))


_BOUNCE_CLASSES: Final = _table(catalog.BOUNCE_CLASS_WEIGHTS)
_DELAY_CLASSES: Final = _table(catalog.DELAY_CLASS_WEIGHTS)
_OUT_OF_BAND_CLASSES: Final = _table(catalog.OUT_OF_BAND_CLASS_WEIGHTS)
# The shares add up to 100, so a value modulo 100 picks an agent by share.
_USER_AGENTS: Final = tuple(ua for ua, share in catalog.USER_AGENTS for _ in range(share))


def _geo(place: catalog.Place, as_strings: bool) -> Event:
    # The 2016 samples send latitude/longitude as strings; the Events API documents floats.
    if as_strings:
        return {
            "country": place.country,
            "region": place.region,
            "city": place.city,
            "latitude": str(place.latitude),
            "longitude": str(place.longitude),
        }
    geo: Event = {
        "country": place.country,
        "region": place.region,
        "city": place.city,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "postal_code": place.postal_code,
    }
    if place.postal_code.isdigit():
        geo["zip"] = int(place.postal_code)
    return geo


_GEO_NUMERIC: Final = tuple(_geo(p, False) for p in catalog.PLACES)
_GEO_STRINGS: Final = tuple(_geo(p, True) for p in catalog.PLACES)
_MOUNTAIN_VIEW: Final = 3  # index of Google's image proxy location in catalog.PLACES
# Gmail and Apple Mail fetch images through proxies, which hide the reader: (address prefix, agent).
_IMAGE_PROXIES: Final = {
    "Gmail": (catalog.GOOGLE_PROXY_PREFIX, catalog.GOOGLE_PROXY_UA),
    "Apple": (catalog.APPLE_PROXY_PREFIX, catalog.APPLE_PROXY_UA),
}
# SMPP delivery-receipt ``stat:`` codes for the states in catalog.SMS_STATES.
_SMPP_STATES: Final = {"Delivered": "DELIVRD", "Undeliverable": "UNDELIV", "Enroute": "ENROUTE"}


class _Stream:
    """One pass of the generator: all mutable state lives here."""

    def __init__(self, config: GeneratorConfig, total: int) -> None:
        self._rng = rng = random.Random(config.seed)
        self._total = total
        self._world: World = build_world(
            rng,
            customers=config.customers,
            subaccounts=config.subaccounts,
            campaigns=config.campaigns,
            recipients=config.recipients,
            year=config.start.year,
        )
        self._ids = IdSource(rng)
        self._start_s = math.ceil(config.start.timestamp())
        self._span_s = max(1, math.floor(config.end.timestamp()) - self._start_s)
        slots_total = max(1.0, total / _EVENTS_PER_SLOT)
        self._slots_per_second = slots_total / self._span_s
        self._wheel: list[list[tuple[_Handler, Any, int]]] = [[] for _ in range(_WHEEL_SLOTS)]
        self._slot = 0
        self._emitted = 0
        self._clock = self._start_s
        self._day_prefix: dict[int, str] = {}
        self._flows = self._flow_thresholds(config.rare_scale)
        self._rare = config.rare_scale
        self._int_rate = config.int_timestamp_rate
        self._gap_rate = config.enrichment_gap_rate
        self._late_rate = config.late_rate
        self._extra_rate = config.extra_key_rate
        self._cust = {"id": self._world.customers[0]}

    # ---- stream ------------------------------------------------------------------------------

    def _flow_thresholds(self, scale: float) -> list[tuple[float, Callable[[], Event]]]:
        starts: dict[str, Callable[[], Event]] = {
            "ab_test": self._start_ab_test,
            "ingest": self._start_ingest,
            "relay": self._start_relay,
            "sms": self._start_sms,
            "push": self._start_push,
            "generation": self._start_generation,
            "policy": self._start_policy_rejection,
        }
        thresholds: list[tuple[float, Callable[[], Event]]] = []
        cumulative = 0.0
        for name, rate in _FLOW_RATES:
            cumulative += rate * scale
            thresholds.append((min(cumulative, 0.5), starts[name]))
        return thresholds

    def elements(self) -> Iterator[Event]:
        """Yield batch elements until ``total`` have been produced."""
        total = self._total
        wheel = self._wheel
        rng = self._rng
        start, span = self._start_s, self._span_s
        while self._emitted < total:
            index = self._slot & _WHEEL_MASK
            due = wheel[index]
            if due:
                wheel[index] = []
                for handler, state, ts in due:
                    self._clock = clock = start + span * self._emitted // total
                    yield self._wrap_up(handler(state, ts if ts < clock else clock), rng)
                    if self._emitted >= total:
                        return
            self._clock = start + span * self._emitted // total
            yield self._wrap_up(self._start_flow(), rng)
            self._slot += 1

    def _wrap_up(self, element: Event, rng: random.Random) -> Event:
        self._emitted += 1
        if rng.random() < self._extra_rate:
            # Real batches can carry keys beside msys (sparkpost.md §2.1).
            element["cust"] = self._cust
        return element

    def _start_flow(self) -> Event:
        r = self._rng.random()
        if r >= self._flows[-1][0]:
            return self._start_email(_EMAIL)
        for threshold, start in self._flows:
            if r < threshold:
                return start()
        return self._start_email(_EMAIL)

    def _schedule(self, handler: _Handler, state: Any, prev_ts: int, delay_s: int) -> None:
        """Queue ``handler`` to emit an event ``delay_s`` seconds after ``prev_ts``."""
        slots = int(delay_s * self._slots_per_second) + 1
        ts = prev_ts + delay_s
        if self._rng.random() < self._late_rate:
            # Held back: it happened now but arrives a few batches later, as when SparkPost
            # retries a batch or one of its nodes lags.
            ts = min(ts, self._clock)
            slots += 200 + self._rng.getrandbits(11)
        if slots >= _WHEEL_SLOTS:
            slots = _WHEEL_SLOTS - 1
        self._wheel[(self._slot + slots) & _WHEEL_MASK].append((handler, state, ts))

    def _after(self, low_s: int, high_s: int) -> int:
        """A delay between ``low_s`` and ``high_s`` seconds, log-uniform (long tail)."""
        return int(low_s * (high_s / low_s) ** self._rng.random())

    # ---- formatting --------------------------------------------------------------------------

    def _stamp(self, ts: int) -> str | int:
        # Live webhooks send epoch seconds as a string; some producers send a bare integer.
        if self._rng.random() < self._int_rate:
            return ts
        return str(ts)

    def _iso(self, ts: int, zone: str = "Z") -> str:
        day, rest = divmod(ts, 86400)
        prefix = self._day_prefix.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
            self._day_prefix[day] = prefix
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.000{zone}"

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # ---- messages ----------------------------------------------------------------------------

    def _new_message(self, channel: int) -> _Message:
        rng = self._rng
        world = self._world
        campaign = world.campaign_table[rng.getrandbits(12)]
        index = int(world.recipient_count * rng.random() ** _RECIPIENT_SKEW)
        rcpt = world.recipient(index)
        m = _Message(campaign, rcpt, channel)
        ts = self._clock
        m.inj_ts = ts
        traits = rcpt.traits
        m.mx_ip = f"{rcpt.mx_prefix}.{traits & 63}.{((traits >> 6) & 255) or 1}"
        m.msg_size = str(int(2500 * 12 ** rng.random()) + (len(campaign.links) << 10))
        pool = campaign.pool
        m.sending_ip = pool.ips[rng.getrandbits(8) % len(pool.ips)]
        if campaign.transactional:
            m.order = f"{(traits >> 20) % 90 + 10}{rng.getrandbits(20):06d}"
        m.common = self._common(m, campaign, rcpt, ts)
        return m

    def _transmission(self, campaign: Campaign) -> str:
        rng = self._rng
        if campaign.transactional or campaign.transmission_left <= 0:
            campaign.transmission_id = self._ids.transmission_id()
            if campaign.transactional:
                campaign.transmission_left = 1
                campaign.scheduled = False
            else:
                # Bulk sends go out in transmissions of a few hundred to tens of thousands.
                campaign.transmission_left = int(300 * 100 ** rng.random())
                campaign.scheduled = rng.random() < 0.2
        campaign.transmission_left -= 1
        return campaign.transmission_id

    def _common(self, m: _Message, campaign: Campaign, rcpt: Recipient, ts: int) -> Event:
        rng = self._rng
        sub = campaign.subaccount
        subject = campaign.subjects[rng.getrandbits(8) % len(campaign.subjects)]
        if "{" in subject:
            subject = subject.replace("{first}", rcpt.first).replace("{order}", m.order)
        empty = rng.random() < _P_EMPTY_META
        amp = rng.random() < _P_AMP_MESSAGE
        transactional = campaign.transactional
        common: Event = {
            "customer_id": sub.customer_id,
            "subaccount_id": sub.id,
            "message_id": self._ids.message_id(),
            "transmission_id": self._transmission(campaign),
            "campaign_id": campaign.id,
            "template_id": campaign.template_id,
            "template_version": campaign.template_version,
            "friendly_from": campaign.friendly_from,
            "msg_from": f"msprvs1={rng.getrandbits(52):013x}=bounces-{sub.id}@{sub.bounce_domain}",
            "subject": subject,
            "rcpt_to": rcpt.address,
            "raw_rcpt_to": rcpt.raw_address,
            "rcpt_meta": {} if empty else self._rcpt_meta(m, campaign, rcpt),
            "rcpt_tags": [] if empty else campaign.tag_sets[rcpt.traits & 3],
            "recipient_domain": rcpt.domain,
            "routing_domain": rcpt.domain,
            "mailbox_provider": rcpt.provider,
            "mailbox_provider_region": rcpt.region,
            "sending_domain": campaign.sending_domain,
            "ip_pool": campaign.pool.name,
            "sending_ip": m.sending_ip,
            "injection_time": self._iso(ts),
            "recv_method": "esmtp" if rcpt.traits & 0x700 == 0 else "rest",
            "transactional": "1" if transactional else "0",
            "open_tracking": True,
            "click_tracking": not transactional or rcpt.traits & 0x800 == 0,
            "initial_pixel": rcpt.traits & 0x3000 != 0,
            "amp_enabled": amp,
        }
        r = rng.random()
        if r < 0.07:
            # cc, bcc and archive copies; SparkPost omits rcpt_type for plain "to" recipients.
            common["rcpt_type"] = "cc" if r < 0.04 else "bcc" if r < 0.06 else "archive"
        ab_test = campaign.ab_test
        if ab_test is not None and rcpt.traits & 1:
            common["ab_test_id"] = ab_test.id
            common["ab_test_version"] = str(ab_test.version)
        if campaign.scheduled:
            common["scheduled_time"] = str(ts - (rcpt.traits & 0xFFF))
        return common

    def _rcpt_meta(self, m: _Message, campaign: Campaign, rcpt: Recipient) -> Event:
        t = rcpt.traits
        customer = {"id": 1000 + rcpt.number, "tier": catalog.TIERS[t & 3]}
        locale = catalog.LOCALES[(t >> 2) & 7]
        if campaign.transactional:
            total = round(9.99 + (t >> 5) % 40000 / 100, 2)
            return {
                "customer": customer,
                "order": {"id": m.order, "total": total, "items": 1 + (t >> 9) % 5},
                "locale": locale,
            }
        interests = catalog.INTERESTS
        first = (t >> 8) % 12
        return {
            "customer": customer,
            "segment": catalog.SEGMENTS[(t >> 5) % len(catalog.SEGMENTS)],
            "interests": [interests[first], interests[(first + 1 + (t >> 12) % 11) % 12]],
            "locale": locale,
            "opted_in": bool(t & 0x10000),
            "score": (t >> 17) % 100,
        }

    # ---- email flow --------------------------------------------------------------------------

    def _start_email(self, channel: int) -> Event:
        m = self._new_message(channel)
        ts = m.inj_ts
        element = self._injection(m, ts)
        r = self._rng.random()
        if r < _P_BOUNCE:
            self._schedule(self._bounce, m, ts, self._after(1, 30))
        elif r < _P_BOUNCE + _P_DELAY:
            self._schedule(self._delay, m, ts, self._after(2, 60))
        else:
            self._schedule(self._delivery, m, ts, self._after(1, 12))
        return element

    def _start_push(self) -> Event:
        return self._start_email(_PUSH)

    def _start_sms(self) -> Event:
        return self._start_email(_SMS)

    def _injection(self, m: _Message, ts: int) -> Event:
        event: Event = {"type": "injection", **m.common, "msg_size": m.msg_size}
        if m.channel == _SMS:
            event.update(self._sms_fields(m))
            event["sms_text"] = catalog.SMS_TEXTS[m.rcpt.traits & 3]
            event["sms_segments"] = 1 + (m.rcpt.traits & 1)
        event["event_id"] = self._ids.event_id()
        event["timestamp"] = self._stamp(ts)
        return {"msys": {"message_event": event}}

    def _delivery(self, m: _Message, ts: int) -> Event:
        rng = self._rng
        queue_ms = (ts - m.inj_ts) * 1000 + rng.getrandbits(10)
        event: Event = {
            "type": "delivery",
            **m.common,
            "delv_method": self._delv_method(m),
            "ip_address": m.mx_ip,
            "msg_size": m.msg_size,
            "num_retries": str(m.retries),
            "queue_time": str(queue_ms),
            "outbound_tls": "1" if m.rcpt.traits & 0xC000 else "0",
        }
        self._channel_fields(m, event)
        if m.channel == _SMS:
            event["sms_remoteids"] = [f"{rng.getrandbits(16):04x}" for _ in range(1 + (ts & 1))]
            event["sms_segments"] = 1 + (m.rcpt.traits & 1)
            self._schedule(self._sms_status, m, ts, self._after(1, 30))
        elif m.channel == _EMAIL:
            self._after_delivery(m, ts)
        elif self._rng.random() < _P_OUT_OF_BAND * self._rare:
            # Push notifications can still fail after the gateway accepted them.
            self._schedule(self._out_of_band, m, ts, self._after(60, 86400))
        event["event_id"] = self._ids.event_id()
        event["timestamp"] = self._stamp(ts)
        return {"msys": {"message_event": event}}

    def _after_delivery(self, m: _Message, ts: int) -> None:
        rng = self._rng
        r = rng.random()
        if r < _P_OPENED:
            if m.common["amp_enabled"] and rng.random() < 0.5:
                self._schedule(self._amp_initial_open, m, ts, self._after(20, 172800))
            elif m.common["initial_pixel"]:
                self._schedule(self._initial_open, m, ts, self._after(20, 172800))
            else:
                self._schedule(self._open, m, ts, self._after(20, 172800))
        rare = rng.random()
        scale = self._rare
        if rare < _P_SPAM_COMPLAINT * scale:
            self._schedule(self._spam_complaint, m, ts, self._after(600, 259200))
        elif rare < (_P_SPAM_COMPLAINT + _P_OUT_OF_BAND) * scale:
            self._schedule(self._out_of_band, m, ts, self._after(60, 86400))
        elif rare < (_P_SPAM_COMPLAINT + _P_OUT_OF_BAND + _P_LIST_UNSUBSCRIBE) * scale:
            self._schedule(self._list_unsubscribe, m, ts, self._after(300, 604800))

    def _delay(self, m: _Message, ts: int) -> Event:
        event = self._failure(m, ts, "delay", _DELAY_CLASSES)
        event["queue_time"] = str((ts - m.inj_ts) * 1000 + self._rng.getrandbits(10))
        m.retries += 1
        r = self._rng.random()
        wait = self._after(300, 14400)
        if r < _P_DELAY_THEN_DELIVERED:
            self._schedule(self._delivery, m, ts, wait)
        elif r < _P_DELAY_THEN_DELIVERED + _P_DELAY_AGAIN:
            self._schedule(self._delay, m, ts, wait)
        else:
            self._schedule(self._bounce, m, ts, wait)
        return {"msys": {"message_event": event}}

    def _bounce(self, m: _Message, ts: int) -> Event:
        return {"msys": {"message_event": self._failure(m, ts, "bounce", _BOUNCE_CLASSES)}}

    def _out_of_band(self, m: _Message, ts: int) -> Event:
        event = self._failure(m, ts, "out_of_band", _OUT_OF_BAND_CLASSES)
        del event["msg_size"], event["num_retries"], event["ip_address"]
        return {"msys": {"message_event": event}}

    def _failure(self, m: _Message, ts: int, kind: str, classes: tuple[int, ...]) -> Event:
        bounce_class = classes[int(self._rng.random() * len(classes))]
        reasons = catalog.BOUNCE_REASONS[bounce_class]
        error_code, text = reasons[self._rng.getrandbits(8) % len(reasons)]
        event: Event = {
            "type": kind,
            **m.common,
            "bounce_class": str(bounce_class),
            "error_code": error_code,
            "reason": text.replace("{ip}", "a.b.c.d"),
            "raw_reason": text.replace("{ip}", m.sending_ip),
            "delv_method": self._delv_method(m),
            "ip_address": m.mx_ip,
            "msg_size": m.msg_size,
            "num_retries": str(m.retries),
        }
        self._channel_fields(m, event)
        event["event_id"] = self._ids.event_id()
        event["timestamp"] = self._stamp(ts)
        return event

    def _delv_method(self, m: _Message) -> str:
        if m.channel == _PUSH:
            return "gcm" if m.rcpt.traits & 1 else "apn"
        return "esmtp"

    def _channel_fields(self, m: _Message, event: Event) -> None:
        if m.channel == _PUSH:
            if not m.device_token:
                m.device_token = f"{self._rng.getrandbits(256):064x}"
            event["device_token"] = m.device_token
        elif m.channel == _SMS:
            event.update(self._sms_fields(m))

    def _sms_fields(self, m: _Message) -> Event:
        if not m.sms:
            t = m.rcpt.traits
            m.sms = {
                "sms_coding": "ASCII" if t & 3 else "UCS2",
                "sms_dst": f"{2000000000 + t % 7999999999}",
                "sms_dst_npi": "E164",
                "sms_dst_ton": "International",
                "sms_src": "1234" if t & 4 else "55512",
                "sms_src_npi": "E164",
                "sms_src_ton": "Unknown",
            }
        return m.sms

    def _sms_status(self, m: _Message, ts: int) -> Event:
        rng = self._rng
        stat_type, stat_state = catalog.SMS_STATES[rng.getrandbits(8) % len(catalog.SMS_STATES)]
        common = m.common
        receipt = f"id:{rng.getrandbits(32):08x} sub:001 dlvrd:001 stat:{_SMPP_STATES[stat_state]}"
        # Legacy SMS status events carry no event_id and no message_id (sparkpost.md §2.6).
        event: Event = {
            "type": "sms_status",
            "customer_id": common["customer_id"],
            "subaccount_id": common["subaccount_id"],
            "delv_method": "esmtp",
            "dr_latency": f"{self._rng.random() * 3:.2f}",
            "ip_address": m.mx_ip,
            "ip_pool": common["ip_pool"],
            "sending_ip": m.sending_ip,
            "routing_domain": common["routing_domain"],
            "reason": stat_state,
            "raw_reason": f"{receipt} err:000",
            **self._sms_fields(m),
            "sms_remoteids": [f"{self._rng.getrandbits(16):04x}"],
            "sms_text": catalog.SMS_TEXTS[m.rcpt.traits & 3],
            "stat_type": stat_type,
            "stat_state": stat_state,
            "timestamp": self._stamp(ts),
        }
        return {"msys": {"message_event": event}}

    def _spam_complaint(self, m: _Message, ts: int) -> Event:
        report_by, report_to, user_str = catalog.FEEDBACK_LOOPS.get(
            m.rcpt.provider, catalog.DEFAULT_FEEDBACK_LOOP
        )
        event: Event = {
            "type": "spam_complaint",
            **m.common,
            "delv_method": "esmtp",
            "fbtype": "abuse",
            "report_by": report_by,
            "report_to": report_to,
            "user_str": user_str,
            "event_id": self._ids.event_id(),
            "timestamp": self._stamp(ts),
        }
        return {"msys": {"message_event": event}}

    # ---- engagement --------------------------------------------------------------------------

    def _engagement(self, m: _Message, ts: int, kind: str, click: bool) -> Event:
        rng = self._rng
        base = m.bare() if rng.random() < self._gap_rate else m.common
        ip, agent, geo_index = self._client(m, click)
        geo = _GEO_STRINGS if rng.random() < 0.3 else _GEO_NUMERIC
        event: Event = {
            "type": kind,
            **base,
            "delv_method": "esmtp",
            "ip_address": ip,
            "user_agent": agent,
            "geo_ip": geo[geo_index],
        }
        if click:
            links = m.campaign.links
            # The last link is the unsubscribe link; ordinary clicks land on the others.
            name, url = links[rng.getrandbits(8) % (len(links) - 1)]
            event["target_link_name"] = name
            event["target_link_url"] = url.replace("{order}", m.order)
        event["event_id"] = self._ids.event_id()
        event["timestamp"] = self._stamp(ts)
        return {"msys": {"track_event": event}}

    def _client(self, m: _Message, click: bool) -> tuple[str, str, int]:
        """Address, user agent and place of whoever fetched the pixel or followed the link."""
        rcpt = m.rcpt
        t = rcpt.traits
        if not click:
            proxy = _IMAGE_PROXIES.get(rcpt.provider)
            if proxy is not None and t & 0x30000:
                prefix, agent = proxy
                return random_ip(self._rng, prefix), agent, _MOUNTAIN_VIEW
        ip = f"{(t >> 18) % 200 + 23}.{(t >> 4) & 255}.{(t >> 12) & 255}.{(t >> 24) % 254 + 1}"
        return ip, _USER_AGENTS[(t >> 7) % 100], (t >> 9) % len(catalog.PLACES)

    def _initial_open(self, m: _Message, ts: int) -> Event:
        r = self._rng.random()
        if r < _P_OPEN_AFTER_INITIAL:
            self._schedule(self._open, m, ts, self._after(1, 30))
        return self._engagement(m, ts, "initial_open", False)

    def _open(self, m: _Message, ts: int) -> Event:
        r = self._rng.random()
        if r < _P_CLICK:
            self._schedule(self._click, m, ts, self._after(3, 3600))
        elif r < _P_CLICK + _P_REOPEN:
            self._schedule(self._open, m, ts, self._after(600, 259200))
        return self._engagement(m, ts, "open", False)

    def _click(self, m: _Message, ts: int) -> Event:
        r = self._rng.random()
        if r < _P_LINK_UNSUBSCRIBE * self._rare:
            self._schedule(self._link_unsubscribe, m, ts, self._after(2, 60))
        elif r < _P_LINK_UNSUBSCRIBE * self._rare + _P_RECLICK:
            self._schedule(self._click, m, ts, self._after(5, 1800))
        return self._engagement(m, ts, "click", True)

    def _amp_initial_open(self, m: _Message, ts: int) -> Event:
        if self._rng.random() < _P_OPEN_AFTER_INITIAL:
            self._schedule(self._amp_open, m, ts, self._after(1, 30))
        return self._engagement(m, ts, "amp_initial_open", False)

    def _amp_open(self, m: _Message, ts: int) -> Event:
        if self._rng.random() < _P_CLICK:
            self._schedule(self._amp_click, m, ts, self._after(3, 3600))
        return self._engagement(m, ts, "amp_open", False)

    def _amp_click(self, m: _Message, ts: int) -> Event:
        return self._engagement(m, ts, "amp_click", True)

    # ---- unsubscribes ------------------------------------------------------------------------

    def _list_unsubscribe(self, m: _Message, ts: int) -> Event:
        event: Event = {
            "type": "list_unsubscribe",
            **m.common,
            "mailfrom": m.common["msg_from"],
            "event_id": self._ids.event_id(),
            "timestamp": self._stamp(ts),
        }
        return {"msys": {"unsubscribe_event": event}}

    def _link_unsubscribe(self, m: _Message, ts: int) -> Event:
        _, agent, _ = self._client(m, True)
        event: Event = {
            "type": "link_unsubscribe",
            **m.common,
            "mailfrom": m.common["msg_from"],
            "user_agent": agent,
            "event_id": self._ids.event_id(),
            "timestamp": self._stamp(ts),
        }
        return {"msys": {"unsubscribe_event": event}}

    # ---- rejected before sending -------------------------------------------------------------

    def _start_generation(self) -> Event:
        rng = self._rng
        m = self._new_message(_EMAIL)
        ts = m.inj_ts
        failure = rng.random() < _P_GENERATION_FAILURE
        event: Event = {
            "type": "generation_failure" if failure else "generation_rejection",
            **{k: v for k, v in m.common.items() if k not in _NOT_ON_GENERATION},
        }
        if failure:
            reason = catalog.GENERATION_FAILURES[rng.getrandbits(8) % 3]
        else:
            reason = catalog.GENERATION_REJECTION
            event["bounce_class"] = "25"
        event["error_code"] = reason.error_code
        event["reason"] = reason.text
        event["raw_reason"] = reason.text
        event["rcpt_subs"] = self._rcpt_subs(m.rcpt)
        event["event_id"] = self._ids.event_id()
        if rng.random() < _P_GEN_ISO_TIMESTAMP:
            event["timestamp"] = self._iso(ts, "+00:00")
            event["tdate"] = self._iso(ts)
        else:
            event["timestamp"] = self._stamp(ts)
        category = "gen_event"
        if failure and rng.random() < _P_GEN_AS_MESSAGE_EVENT:
            category = "message_event"
        return {"msys": {category: event}}

    def _rcpt_subs(self, rcpt: Recipient) -> Event:
        t = rcpt.traits
        return {
            "first_name": rcpt.first,
            "country": catalog.COUNTRIES[(t >> 3) % len(catalog.COUNTRIES)],
            "gender": "Female" if t & 0x40 else "Male",
            "loyalty_points": (t >> 10) % 5000,
        }

    def _start_policy_rejection(self) -> Event:
        rng = self._rng
        m = self._new_message(_EMAIL)
        reason = catalog.POLICY_REJECTIONS[rng.getrandbits(8) % len(catalog.POLICY_REJECTIONS)]
        event: Event = {
            "type": "policy_rejection",
            **m.common,
            "bounce_class": "25",
            "error_code": reason.error_code,
            "reason": reason.text,
            "raw_reason": reason.text,
            "remote_addr": random_ip(rng, "34.201"),
            "event_id": self._ids.event_id(),
            "timestamp": self._stamp(m.inj_ts),
        }
        return {"msys": {"message_event": event}}

    # ---- relay -------------------------------------------------------------------------------

    def _start_relay(self) -> Event:
        rng = self._rng
        world = self._world
        sub = world.subaccounts[rng.getrandbits(8) % len(world.subaccounts)]
        sender = world.recipient(int(world.recipient_count * rng.random()))
        mailbox = ("support", "replies", "inbound", "orders")[rng.getrandbits(2)]
        rcpt_to = f"{mailbox}@{sub.relay_domain}"
        common: Event = {
            "customer_id": sub.customer_id,
            "subaccount_id": sub.id,
            "relay_id": sub.relay_id,
            "msg_from": sender.address,
            "routing_domain": sub.relay_domain,
        }
        ts = self._clock
        relay = _Relay(common, ts, random_ip(rng, "54.81"))
        remote = f"{sender.mx_prefix}.{sender.traits & 255}.{(sender.traits >> 8) & 255 or 1}"
        if rng.random() < 0.05:
            code, text = catalog.RELAY_REJECTIONS[rng.getrandbits(1)]
            event: Event = {
                "type": "relay_rejection",
                **common,
                "rcpt_to": rcpt_to,
                "raw_rcpt_to": rcpt_to,
                "remote_addr": remote,
                "bounce_class": "10" if code == "550" else "51",
                "error_code": code,
                "reason": text.replace("{ip}", "a.b.c.d"),
                "raw_reason": text.replace("{ip}", remote),
            }
        else:
            event = {
                "type": "relay_injection",
                **common,
                "rcpt_to": rcpt_to,
                "raw_rcpt_to": rcpt_to,
                "msg_size": str(int(3000 * 30 ** rng.random())),
                "remote_addr": remote,
            }
            self._schedule(self._relay_attempt, relay, ts, self._after(1, 10))
        event["event_id"] = self._ids.event_id()
        event["timestamp"] = self._stamp(ts)
        return {"msys": {"relay_event": event}}

    def _relay_attempt(self, relay: _Relay, ts: int) -> Event:
        rng = self._rng
        kind = self._relay_outcome(relay.retries)
        event: Event = {
            "type": kind,
            **relay.common,
            "delv_method": "esmtp",
            "num_retries": str(relay.retries),
            "queue_time": str((ts - relay.inj_ts) * 1000 + rng.getrandbits(9)),
        }
        if kind != "relay_delivery":
            code, text = catalog.RELAY_FAILURES[rng.getrandbits(1)]
            event["error_code"] = code
            event["reason"] = text.replace("{ip}", "a.b.c.d")
            event["raw_reason"] = text.replace("{ip}", relay.target_ip)
        if kind == "relay_tempfail":
            relay.retries += 1
            self._schedule(self._relay_attempt, relay, ts, self._after(60, 3600))
        event["event_id"] = self._ids.event_id()
        event["timestamp"] = self._stamp(ts)
        return {"msys": {"relay_event": event}}

    def _relay_outcome(self, retries: int) -> str:
        # Endpoints that failed once fail again more often; SparkPost gives up after a while.
        r = self._rng.random()
        delivered, tempfail = (0.9, 0.07) if retries == 0 else (0.7, 0.2)
        if r < delivered:
            return "relay_delivery"
        if r < delivered + tempfail and retries < 4:
            return "relay_tempfail"
        return "relay_permfail"

    # ---- account-level events ----------------------------------------------------------------

    def _start_ab_test(self) -> Event:
        rng = self._rng
        campaigns = self._world.ab_campaigns or self._world.campaigns
        campaign = campaigns[rng.getrandbits(16) % len(campaigns)]
        test = campaign.ab_test
        completed = rng.random() < 0.75
        template = campaign.template_id
        ab_test: Event = {
            "id": test.id if test else f"{template}-test",
            "name": test.name if test else f"{campaign.id} test",
            "version": test.version if test else 1,
            "winning_template_id": (test.winning_template_id if test else template)
            if completed
            else template,
            "engagement_metric": test.engagement_metric if test else "count_unique_clicked",
        }
        sub = campaign.subaccount
        event: Event = {
            "type": "ab_test_completed" if completed else "ab_test_cancelled",
            "event_id": self._uuid(),
            "customer_id": sub.customer_id,
            "subaccount_id": sub.id,
            "ab_test": ab_test,
            "timestamp": self._stamp(self._clock),
        }
        return {"msys": {"ab_test_event": event}}

    def _start_ingest(self) -> Event:
        rng = self._rng
        sub = self._world.subaccounts[rng.getrandbits(8) % len(self._world.subaccounts)]
        batch_id = self._uuid()
        ok = rng.random() < 0.8
        ts = self._clock
        event: Event = {
            "type": "success" if ok else "error",
            "event_id": self._uuid(),
            "batch_id": batch_id,
            # The Ingest API reports these as numbers, unlike message events (sparkpost.md §3.2).
            "customer_id": int(sub.customer_id),
            "subaccount_id": int(sub.id),
            # Its documented example uses ISO times throughout.
            "timestamp": self._iso(ts),
            "expiration_timestamp": self._iso(ts + 7 * 86400),
            "number_succeeded": 500 + rng.getrandbits(12),
            "number_failed": 0 if ok else 1 + rng.getrandbits(6),
            "number_duplicates": rng.getrandbits(3),
        }
        if not ok:
            event["error_type"] = "validation"
            event["retryable"] = False
            event["href"] = f"https://api.sparkpost.com/api/v1/ingest/events/batches/{batch_id}"
        return {"msys": {"ingest_event": event}}
