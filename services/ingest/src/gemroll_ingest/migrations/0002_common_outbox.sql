-- The outbox in the shape every service shares (gemroll_common.outbox.OUTBOX_TABLE_SQL):
-- the relay now deletes a row once Kafka has it, so published rows (kept until now for a
-- retention period) go; pending rows keep their id (their order). The media an event is
-- about becomes the subject.
DELETE FROM outbox WHERE published_at IS NOT NULL;

DROP INDEX IF EXISTS outbox_pending;
DROP INDEX IF EXISTS outbox_published;
DROP INDEX IF EXISTS outbox_media;
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key;
ALTER TABLE outbox DROP COLUMN published_at;
ALTER TABLE outbox RENAME COLUMN media_id TO subject_id;

CREATE INDEX IF NOT EXISTS outbox_subject ON outbox (subject_id) WHERE subject_id IS NOT NULL;
