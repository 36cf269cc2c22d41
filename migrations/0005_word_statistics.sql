-- 0005: the keyword indexes without a predicate, so that the planner has statistics for them.
--
-- The cause is 0004's: the planner reads an index expression's statistics only from an index
-- without a predicate. Beside the partial word indexes it had none for `event_words(...)` and
-- guessed how many events a keyword matches, often as 1 or 8 in a partition whatever the word.
-- Rare words came out fine (the index is the right plan for them anyway), common ones did not:
-- on 10,000,000 generated events over 30 days, `recipient_domains=gmail.com` (a third of all
-- events) read and sorted all 112,102 of a day's matches to return the newest 1,000, 395 ms for
-- one day and 9 s for 30. With the statistics (most common elements of each word array) the
-- planner walks the primary key backwards and stops at the 1,000th match: 14 ms for the day.
-- The NULL entries a plain GIN index keeps cost about 1 byte per event for the fields most
-- events lack (reason, ab_test_id); measured on one day of that dataset, a fresh plain index
-- was no larger than the partial one as loading had left it.
--
-- As in 0003, on a populated database the builds hold off loads while they run (batches wait in
-- the queue, nothing is lost): 3.5 minutes on 10 M events, the ANALYZE included.
SET lock_timeout = '10s';

DROP INDEX events_campaign_words;
CREATE INDEX events_campaign_words ON events USING gin (event_words(campaign_id))
    WITH (gin_pending_list_limit = 64);

DROP INDEX events_template_words;
CREATE INDEX events_template_words ON events USING gin (event_words(template_id))
    WITH (gin_pending_list_limit = 64);

DROP INDEX events_subject_words;
CREATE INDEX events_subject_words ON events USING gin (event_words(subject))
    WITH (gin_pending_list_limit = 64);

DROP INDEX events_reason_words;
CREATE INDEX events_reason_words ON events USING gin (event_words(reason))
    WITH (gin_pending_list_limit = 64);

DROP INDEX events_recipient_domain_words;
CREATE INDEX events_recipient_domain_words ON events
    USING gin (event_words(coalesce(recipient_domain, event_address_domain(rcpt_to))))
    WITH (gin_pending_list_limit = 64);

DROP INDEX events_ab_test_words;
CREATE INDEX events_ab_test_words ON events USING gin (event_words(ab_test_id))
    WITH (gin_pending_list_limit = 64);

-- The statistics the indexes make possible, now rather than at the next autovacuum.
ANALYZE events;
