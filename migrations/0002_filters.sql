-- 0002: indexes for the Events API's filters (sparkpost.md §4.2) and the metadata extensions.
--
-- Why this shape:
-- * Keyword filters match whole words (product.md, Decisions 3). `event_words` splits a value
--   into its lower-cased words: maximal runs of letters and digits, Unicode-wide. It uses the
--   ICU root collation for both lower() and [[:alnum:]], so the answer does not depend on the
--   database's locale; PostgreSQL's `simple` text search parser would not do (it keeps `-` and
--   `_` inside some tokens). `events.words.words` is its Python twin, and a test holds the two
--   together. Queries match with `event_words(col) @> ARRAY[words]`, which a GIN index on the
--   same expression serves; PostgreSQL rechecks each candidate row with the expression.
--   Leading or trailing separators yield an empty element, which no query word ever is.
-- * Every index earns its bytes (product.md P4): only filters that pick a small share of a
--   day get one. The others are served by the time window (partition pruning) alone:
--     - event_ids: the primary key (ts, event_id, type), walked inside the window;
--     - from_addresses, sending_domains, ip_pools, sending_ips, mailbox_providers,
--       mailbox_provider_regions, subaccounts: a handful of values per sender, each a large
--       share of the day's events, where an index would cost more to read than the partition;
--     - bounce_classes: a few dozen classes, on failure events only;
--     - ab_test_versions: only with ab_tests, whose index narrows first.
-- * Indexed: campaigns, templates, subjects, reasons, recipient_domains, ab_tests (words);
--   transmissions (btree); rcpt_tags (GIN). recipients, messages and rcpt_meta have theirs
--   since 0001. All are partial: events without the field cost nothing.
-- * Built on the partitioned table, so every partition, present and future, gets them.
SET lock_timeout = '10s';

CREATE FUNCTION event_words(value text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT regexp_split_to_array(lower(value COLLATE "und-x-icu"), '[^[:alnum:]]+') $$;

-- The domain of an address: what follows its last `@` (NULL without one). recipient_domains and
-- sending_domains fall back to it (product.md, Decisions 4).
CREATE FUNCTION event_address_domain(address text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT substring(address from '@([^@]*)$') $$;

CREATE INDEX events_campaign_words ON events USING gin (event_words(campaign_id))
    WHERE campaign_id IS NOT NULL;
CREATE INDEX events_template_words ON events USING gin (event_words(template_id))
    WHERE template_id IS NOT NULL;
CREATE INDEX events_subject_words ON events USING gin (event_words(subject))
    WHERE subject IS NOT NULL;
CREATE INDEX events_reason_words ON events USING gin (event_words(reason))
    WHERE reason IS NOT NULL;
CREATE INDEX events_recipient_domain_words ON events
    USING gin (event_words(coalesce(recipient_domain, event_address_domain(rcpt_to))))
    WHERE coalesce(recipient_domain, event_address_domain(rcpt_to)) IS NOT NULL;
CREATE INDEX events_ab_test_words ON events USING gin (event_words(ab_test_id))
    WHERE ab_test_id IS NOT NULL;
CREATE INDEX events_transmission_id ON events (transmission_id)
    WHERE transmission_id IS NOT NULL;
-- Most events carry no tags (`[]`): they stay out of the index.
CREATE INDEX events_rcpt_tags ON events USING gin (rcpt_tags jsonb_path_ops)
    WHERE rcpt_tags <> '[]'::jsonb;
