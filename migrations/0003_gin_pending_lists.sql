-- 0003: the smallest GIN pending lists (64 kB), rcpt_meta's included.
--
-- A GIN index appends new entries to a pending list and merges the list into the index once it
-- passes gin_pending_list_limit. The list's pages then stay in the index file, free for the
-- next list, so every daily partition carries up to the limit in each of its GIN indexes for
-- good: with 0001's default 4 MB (rcpt_meta) and 0002's 256 kB that is about 6 MB a partition,
-- 600 bytes per event for a sender of 10,000 events a day. Measured on 30,000 generated events
-- over three days (`make bench`'s dataset code): 1,247 bytes per event on disk before, 1,008
-- after, loading in 6.4 s against 6.2 s; `fastupdate = off` would reach 936 bytes but load in
-- 11.6 s.
--
-- A partitioned index takes no new storage parameters (ALTER INDEX ... SET is refused), so the
-- indexes are made again, under their own names. On a new database that is instant; on a
-- populated one the builds hold off loads (batches wait in the queue, nothing is lost) for as
-- long as they take.
SET lock_timeout = '10s';

DROP INDEX events_rcpt_meta;
CREATE INDEX events_rcpt_meta ON events USING gin (rcpt_meta jsonb_path_ops)
    WITH (gin_pending_list_limit = 64) WHERE rcpt_meta IS NOT NULL;

DROP INDEX events_rcpt_tags;
CREATE INDEX events_rcpt_tags ON events USING gin (rcpt_tags jsonb_path_ops)
    WITH (gin_pending_list_limit = 64) WHERE rcpt_tags <> '[]'::jsonb;

DROP INDEX events_campaign_words;
CREATE INDEX events_campaign_words ON events USING gin (event_words(campaign_id))
    WITH (gin_pending_list_limit = 64) WHERE campaign_id IS NOT NULL;

DROP INDEX events_template_words;
CREATE INDEX events_template_words ON events USING gin (event_words(template_id))
    WITH (gin_pending_list_limit = 64) WHERE template_id IS NOT NULL;

DROP INDEX events_subject_words;
CREATE INDEX events_subject_words ON events USING gin (event_words(subject))
    WITH (gin_pending_list_limit = 64) WHERE subject IS NOT NULL;

DROP INDEX events_reason_words;
CREATE INDEX events_reason_words ON events USING gin (event_words(reason))
    WITH (gin_pending_list_limit = 64) WHERE reason IS NOT NULL;

DROP INDEX events_recipient_domain_words;
CREATE INDEX events_recipient_domain_words ON events
    USING gin (event_words(coalesce(recipient_domain, event_address_domain(rcpt_to))))
    WITH (gin_pending_list_limit = 64)
    WHERE coalesce(recipient_domain, event_address_domain(rcpt_to)) IS NOT NULL;

DROP INDEX events_ab_test_words;
CREATE INDEX events_ab_test_words ON events USING gin (event_words(ab_test_id))
    WITH (gin_pending_list_limit = 64) WHERE ab_test_id IS NOT NULL;
