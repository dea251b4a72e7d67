-- A reservation (`storing`) is leased: the request storing the bytes renews `lease_until`
-- while it works. A lease that ran out belongs to a crashed or stalled request: the next
-- upload of the same bytes takes the reservation over (no 15-minute "in progress" wall after
-- a crash), and the janitor removes what nobody retries. `abandoned` is a released
-- reservation whose object the janitor still has to delete: it no longer claims the bytes.
-- The default covers an older ingest still running during a rolling upgrade (it reserves
-- without a lease): its reservations last as long as before.
ALTER TABLE media ADD COLUMN lease_until timestamptz
    DEFAULT clock_timestamp() + interval '15 minutes';
UPDATE media SET lease_until = created_at + interval '15 minutes' WHERE state = 'storing';

ALTER TABLE media DROP CONSTRAINT media_state_check;
ALTER TABLE media ADD CONSTRAINT media_state_check
    CHECK (state IN ('storing', 'abandoned', 'accepted', 'deleted', 'erased'));

DROP INDEX IF EXISTS media_storing;
CREATE INDEX media_storing ON media (lease_until) WHERE state = 'storing';
CREATE INDEX media_abandoned ON media (media_id) WHERE state = 'abandoned';
