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
-- * The GIN indexes keep a pending list of at most 256 kB (the default is 4 MB): COPY appends
--   rows to it and a full list is merged into the index. The pages of a merged list are reused
--   only after VACUUM, so a 4 MB list costs 4 MB per index and partition between vacuums, the
--   size of a compact index for 100,000 events. Smaller merges kept loading as fast in the
--   storage benchmark. (The options of 0001's `events_rcpt_meta`, a partitioned index, cannot
--   be altered; it keeps the default until it is rebuilt.)
-- * CREATE INDEX on the partitioned table holds off loads while it builds on the existing
--   partitions: quick on a young database. A large one would build each partition's index
--   CONCURRENTLY and attach it first; this migration then only attaches.
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
    WITH (gin_pending_list_limit = 256) WHERE campaign_id IS NOT NULL;
CREATE INDEX events_template_words ON events USING gin (event_words(template_id))
    WITH (gin_pending_list_limit = 256) WHERE template_id IS NOT NULL;
CREATE INDEX events_subject_words ON events USING gin (event_words(subject))
    WITH (gin_pending_list_limit = 256) WHERE subject IS NOT NULL;
CREATE INDEX events_reason_words ON events USING gin (event_words(reason))
    WITH (gin_pending_list_limit = 256) WHERE reason IS NOT NULL;
CREATE INDEX events_recipient_domain_words ON events
    USING gin (event_words(coalesce(recipient_domain, event_address_domain(rcpt_to))))
    WITH (gin_pending_list_limit = 256)
    WHERE coalesce(recipient_domain, event_address_domain(rcpt_to)) IS NOT NULL;
CREATE INDEX events_ab_test_words ON events USING gin (event_words(ab_test_id))
    WITH (gin_pending_list_limit = 256) WHERE ab_test_id IS NOT NULL;
CREATE INDEX events_transmission_id ON events (transmission_id)
    WHERE transmission_id IS NOT NULL;
-- Most events carry no tags (`[]`): they stay out of the index.
CREATE INDEX events_rcpt_tags ON events USING gin (rcpt_tags jsonb_path_ops)
    WITH (gin_pending_list_limit = 256) WHERE rcpt_tags <> '[]'::jsonb;
