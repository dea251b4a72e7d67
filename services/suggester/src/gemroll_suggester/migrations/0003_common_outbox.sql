-- The outbox in the shape every service shares (gemroll_common.outbox.OUTBOX_TABLE_SQL):
-- the event's id and type, and the item it is about, as columns. Rows not yet published
-- keep their id (their order); their event id and type come from the stored event, their
-- subject from its media (or else suggestion) id.
ALTER TABLE outbox
    ADD COLUMN event_id uuid,
    ADD COLUMN event_type text,
    ADD COLUMN subject_id uuid;

UPDATE outbox SET
    event_id = (event->>'event_id')::uuid,
    event_type = event->>'event_type',
    subject_id = COALESCE(event->'data'->>'media_id', event->'data'->>'suggestion_id')::uuid
FROM (SELECT id AS row_id, convert_from(payload, 'UTF8')::jsonb AS event FROM outbox) AS stored
WHERE outbox.id = stored.row_id;

ALTER TABLE outbox
    ALTER COLUMN event_id SET NOT NULL,
    ALTER COLUMN event_type SET NOT NULL,
    ALTER COLUMN created_at SET DEFAULT clock_timestamp();

CREATE INDEX IF NOT EXISTS outbox_subject ON outbox (subject_id) WHERE subject_id IS NOT NULL;
