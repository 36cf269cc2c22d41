"""Event types and categories SparkPost documents (sparkpost.md §2.1 and §3.1)."""

from __future__ import annotations

CATEGORY_TYPES: dict[str, tuple[str, ...]] = {
    "message_event": (
        "injection",
        "delivery",
        "bounce",
        "delay",
        "policy_rejection",
        "out_of_band",
        "spam_complaint",
        "sms_status",
    ),
    "track_event": ("click", "open", "initial_open", "amp_click", "amp_open", "amp_initial_open"),
    "gen_event": ("generation_failure", "generation_rejection"),
    "unsubscribe_event": ("list_unsubscribe", "link_unsubscribe"),
    "relay_event": (
        "relay_injection",
        "relay_rejection",
        "relay_delivery",
        "relay_tempfail",
        "relay_permfail",
    ),
    "ab_test_event": ("ab_test_completed", "ab_test_cancelled"),
    "ingest_event": ("success", "error"),
}

# Engagement events for messages older than SparkPost's enrichment window (60 days) arrive
# without these fields (sparkpost.md §2.6), so none of them can be relied on.
ENRICHED_FIELDS: frozenset[str] = frozenset(
    {
        "campaign_id",
        "subject",
        "ip_pool",
        "sending_ip",
        "rcpt_meta",
        "rcpt_tags",
        "routing_domain",
        "sending_domain",
        "template_id",
        "template_version",
        "transmission_id",
    }
)

# The values `events=` accepts (product.md, Decisions 2). Stored events of other types are still
# returned when no type filter is given.
KNOWN_TYPES: frozenset[str] = frozenset(t for types in CATEGORY_TYPES.values() for t in types)
