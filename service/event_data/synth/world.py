"""The seeded cast of a synthetic stream: customers, subaccounts, campaigns, recipients and ids.

Everything is drawn once from the stream's ``random.Random`` so that the same seed builds the
same world. Recipients are not stored: a recipient is a pure function of its index and the world's
salt, so a population of millions costs no memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from event_data.synth import catalog

_T = TypeVar("_T")

_MASK56 = (1 << 56) - 1
_MASK64 = (1 << 64) - 1
# Offset that turns a 56-bit value into a 17-digit decimal, the width of SparkPost's event ids.
_DECIMAL_ID_BASE = 10**16


def mix56(value: int) -> int:
    """A bijection on 56-bit integers that scatters consecutive inputs.

    Counters go through it to get ids that look random but can never collide within a stream.
    Each step (xor with a right shift, multiplication by an odd constant) is invertible.
    """
    value &= _MASK56
    value ^= value >> 29
    value = (value * 0xBF58476D1CE4E5B) & _MASK56
    value ^= value >> 27
    value = (value * 0x94D049BB133111) & _MASK56
    return value ^ (value >> 31)


def mix64(value: int) -> int:
    """The splitmix64 finaliser: a bijection on 64-bit integers."""
    value &= _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


class IdSource:
    """Unique event, message and transmission ids for one stream."""

    __slots__ = ("_event", "_message", "_transmission")

    def __init__(self, rng: random.Random) -> None:
        # Random starting points keep streams of different seeds apart.
        self._event = rng.getrandbits(56)
        self._message = rng.getrandbits(64)
        self._transmission = rng.getrandbits(56)

    def event_id(self) -> str:
        """A 17-digit decimal string, like ``92356927693813856``."""
        self._event += 1
        return str(_DECIMAL_ID_BASE + mix56(self._event))

    def message_id(self) -> str:
        """Twenty hex digits, like ``000443ee14578172be22``."""
        self._message += 1
        return f"{mix64(self._message):020x}"

    def transmission_id(self) -> str:
        """A 17-digit decimal string, like ``65832150921904138``."""
        self._transmission += 1
        return str(_DECIMAL_ID_BASE + mix56(self._transmission ^ 0x5A5A5A5A5A5A5A))


def random_ip(rng: random.Random, prefix: str) -> str:
    """An IPv4 address inside ``prefix`` (its first two octets)."""
    bits = rng.getrandbits(16)
    return f"{prefix}.{bits >> 8}.{(bits & 255) or 1}"


@dataclass(frozen=True, slots=True)
class Pool:
    """A SparkPost IP pool and the sending IPs in it."""

    name: str
    ips: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Subaccount:
    """A sender brand: one subaccount of one SparkPost customer."""

    id: str
    customer_id: str
    brand: catalog.Brand
    web_host: str
    news_host: str
    bounce_domain: str
    transactional_pool: Pool
    marketing_pool: Pool
    relay_id: str
    relay_domain: str


@dataclass(frozen=True, slots=True)
class AbTest:
    """An A/B test over a campaign's template."""

    id: str
    name: str
    version: int
    default_template_id: str
    winning_template_id: str
    engagement_metric: str


@dataclass(slots=True)
class Campaign:
    """A campaign: which template goes from which sender through which pool.

    Bulk campaigns send many messages per transmission; transactional ones one message each.
    The current transmission is the only mutable part.
    """

    id: str
    template_id: str
    template_version: str
    subjects: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    transactional: bool
    tag_sets: tuple[list[str], ...]
    subaccount: Subaccount
    friendly_from: str
    sending_domain: str
    pool: Pool
    program: catalog.Program
    ab_test: AbTest | None
    transmission_id: str = ""
    transmission_left: int = 0
    scheduled: bool = False


class Recipient(NamedTuple):
    """One mailbox of the recipient population."""

    number: int
    address: str
    raw_address: str
    domain: str
    provider: str
    region: str
    mx_prefix: str
    first: str
    last: str
    traits: int


@dataclass(slots=True)
class World:
    """Every entity a stream draws from."""

    customers: tuple[str, ...]
    subaccounts: tuple[Subaccount, ...]
    campaigns: tuple[Campaign, ...]
    campaign_table: tuple[Campaign, ...]
    recipient_count: int
    salt: int
    domain_table: tuple[tuple[str, str, str, str], ...]
    ab_campaigns: tuple[Campaign, ...] = field(default=())

    def recipient(self, index: int) -> Recipient:
        """The recipient at ``index``; the same index always gives the same mailbox."""
        h = mix64(index ^ self.salt)
        domain, provider, region, mx_prefix = self.domain_table[h & 1023]
        first = catalog.FIRST_NAMES[(h >> 10) % len(catalog.FIRST_NAMES)]
        last = catalog.LAST_NAMES[(h >> 18) % len(catalog.LAST_NAMES)]
        local = _local_part(first, last, (h >> 26) & 7, (h >> 29) % 1000)
        raw_local = local
        # About one mailbox in eight was typed with capitals; SparkPost lower-cases rcpt_to only.
        if (h >> 39) & 7 == 0:
            raw_local = local.replace(first.lower(), first).replace(last.lower(), last)
            domain_raw = domain.capitalize()
        else:
            domain_raw = domain
        return Recipient(
            index,
            f"{local}@{domain}",
            f"{raw_local}@{domain_raw}",
            domain,
            provider,
            region,
            mx_prefix,
            first,
            last,
            # Independent bits for the generator's per-recipient choices (device, locale...).
            mix64(h ^ 0x9E3779B97F4A7C15),
        )


def _local_part(first: str, last: str, style: int, number: int) -> str:
    f = first.lower()
    la = last.lower().replace("'", "")
    if style == 0:
        return f"{f}.{la}"
    if style == 1:
        return f"{f}{la}"
    if style == 2:
        return f"{f[0]}.{la}"
    if style == 3:
        return f"{f}_{la}{number % 100}"
    if style == 4:
        return f"{f}{number}"
    if style == 5:
        return f"{la}.{f}"
    if style == 6:
        return f"{f}.{la}+news"
    return f"{f[0]}{la}{number % 100}"


def build_world(
    rng: random.Random,
    *,
    customers: int,
    subaccounts: int,
    campaigns: int,
    recipients: int,
    year: int,
) -> World:
    """Draw customers, subaccounts and campaigns for one stream."""
    customer_ids = tuple(str(rng.randrange(10_000, 1_000_000)) for _ in range(customers))
    subs = tuple(_subaccount(rng, i, customer_ids) for i in range(subaccounts))
    camps = tuple(_campaign(rng, i, subs, year) for i in range(campaigns))
    return World(
        customers=customer_ids,
        subaccounts=subs,
        campaigns=camps,
        campaign_table=_weighted_table(camps, rng),
        recipient_count=recipients,
        salt=rng.getrandbits(64),
        domain_table=_domain_table(),
        ab_campaigns=tuple(c for c in camps if c.ab_test is not None),
    )


def _subaccount(rng: random.Random, index: int, customer_ids: tuple[str, ...]) -> Subaccount:
    brand = catalog.BRANDS[index % len(catalog.BRANDS)]
    cycle = index // len(catalog.BRANDS)
    domain = brand.domain if cycle == 0 else f"{brand.domain.split('.')[0]}{cycle + 1}.com"
    slug = domain.split(".")[0]
    # Subaccount 0 is the primary account, which SparkPost reports as subaccount_id 0.
    sub_id = "0" if index == 0 else str(100 + index * 7 + rng.randrange(7))
    shared = rng.random() < 0.3
    block = f"{rng.choice((52, 147, 156, 192))}.{rng.randrange(16, 250)}"
    ips = tuple(f"{block}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}" for _ in range(6))
    transactional = Pool("default" if shared else f"{slug}-transactional", ips[:2])
    marketing = Pool("shared" if shared else f"{slug}-marketing", ips[2:])
    relay_id = f"{rng.randrange(100, 1000)}-{rng.randrange(100, 1000)}-{rng.randrange(100, 1000)}"
    return Subaccount(
        id=sub_id,
        customer_id=customer_ids[index % len(customer_ids)],
        brand=brand._replace(domain=domain),
        web_host=f"www.{domain}",
        news_host=f"{brand.news_subdomain}.{domain}",
        bounce_domain=f"bounces.{domain}",
        transactional_pool=transactional,
        marketing_pool=marketing,
        relay_id=relay_id,
        relay_domain=f"inbound.{domain}",
    )


def _campaign_name(program: catalog.Program, style: int, year: int, suffix: str) -> str:
    words = list(program.words)
    extra = suffix.split() if suffix else []
    if style == 0:
        return "-".join(words + extra)
    if style == 1:
        return "-".join(["".join(words), *extra])
    if style == 2:
        return "_".join([*words, *extra, str(year)])
    if style == 3:
        return " ".join(w.capitalize() for w in words + extra)
    return f"{'-'.join(words)}-{year}-{extra[0] if extra else 'q' + str(1 + year % 4)}"


def _campaign(rng: random.Random, index: int, subs: tuple[Subaccount, ...], year: int) -> Campaign:
    program = _weighted_pick(rng, catalog.PROGRAMS, [p.weight for p in catalog.PROGRAMS])
    # Low-numbered subaccounts send most of the mail, as in most accounts.
    sub = subs[min(int(len(subs) * rng.random() ** 1.6), len(subs) - 1)]
    suffix = rng.choice(program.suffixes)
    name = _campaign_name(program, index % 5 if index >= 5 else index, year, suffix)
    template_variant = rng.choice(("", "", "-v2", "-v3", f"-{year}", "_html"))
    template_id = program.template + template_variant
    brand = sub.brand.name
    subjects = tuple(s.replace("{brand}", brand) for s in program.subjects)
    hosts = {"{web}": sub.web_host, "{news}": sub.news_host}
    links = tuple(
        (label, _fill(url, hosts) + f"?utm_source=sparkpost&utm_campaign={name.replace(' ', '+')}")
        for label, url in (*program.links, catalog.UNSUBSCRIBE_LINK)
    )
    mail_host = f"{sub.brand.mail_subdomain}.{sub.brand.domain}"
    news_host = sub.news_host
    sending_domain = mail_host if program.transactional else rng.choice((news_host, mail_host))
    local = "no-reply" if program.transactional else rng.choice(("news", "hello", "offers"))
    base_tags = list(program.tags)
    tag_sets = (
        base_tags,
        [*base_tags, str(year)],
        [*base_tags, rng.choice(catalog.INTERESTS)],
        [*base_tags, "segment-a", "segment-b"],
    )
    ab_test = None
    if rng.random() < 0.15:
        ab_test = AbTest(
            id=f"{template_id}-subject-test",
            name=f"{name} subject line test",
            version=rng.randrange(1, 5),
            default_template_id=template_id,
            winning_template_id=f"{template_id}-b",
            engagement_metric=rng.choice(("count_unique_clicked", "count_unique_confirmed_opened")),
        )
    return Campaign(
        id=name,
        template_id=template_id,
        template_version=str(rng.randrange(1, 20)),
        subjects=subjects,
        links=links,
        transactional=program.transactional,
        tag_sets=tag_sets,
        subaccount=sub,
        friendly_from=f"{local}@{sending_domain}",
        sending_domain=sending_domain,
        pool=sub.transactional_pool if program.transactional else sub.marketing_pool,
        program=program,
        ab_test=ab_test,
    )


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(key, value)
    return template


def _weighted_pick(rng: random.Random, items: tuple[Any, ...], weights: list[int]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _weighted_table(campaigns: tuple[Campaign, ...], rng: random.Random) -> tuple[Campaign, ...]:
    """A 4096-entry lookup table: picking a uniform slot picks a campaign with Zipf-like odds.

    A table turns each weighted draw into one ``getrandbits`` call, which matters at tens of
    thousands of messages per second.
    """
    order = list(campaigns)
    rng.shuffle(order)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(order))]
    return _spread(order, weights, 4096)


def _domain_table() -> tuple[tuple[str, str, str, str], ...]:
    entries: list[tuple[str, str, str, str]] = []
    weights: list[float] = []
    for d in catalog.MAILBOX_DOMAINS:
        entries.append((d.domain, d.provider, d.region, d.mx_prefix))
        weights.append(d.weight)
    per_corp = catalog.CORPORATE_WEIGHT / len(catalog.CORPORATE_DOMAINS)
    for i, domain in enumerate(catalog.CORPORATE_DOMAINS):
        provider, prefix = catalog.CORPORATE_PROVIDERS[i % len(catalog.CORPORATE_PROVIDERS)]
        region = "Asia Pacific" if domain.endswith(".jp") else "Global"
        entries.append((domain, provider, region, prefix))
        weights.append(per_corp)
    return _spread(entries, weights, 1024)


def _spread(items: list[_T], weights: list[float], size: int) -> tuple[_T, ...]:
    """Repeat each item in proportion to its weight, every item at least once."""
    total = sum(weights)
    counts = [max(1, round(w / total * size)) for w in weights]
    # Rounding leaves the table a little off size: the heaviest item absorbs the difference.
    heaviest = max(range(len(items)), key=weights.__getitem__)
    counts[heaviest] += size - sum(counts)
    table: list[_T] = []
    for item, count in zip(items, counts, strict=True):
        table.extend([item] * count)
    return tuple(table)
