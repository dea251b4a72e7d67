-- The outbox in the shape every service shares (gemroll_common.outbox.OUTBOX_TABLE_SQL).
-- Rows not yet published stay, with their position: `seq` becomes `id` and keeps its
-- sequence, so ids still commit in order (every writer holds the writers' advisory lock) and
-- the watermark the gate committed in Kafka keeps its meaning. The event id comes from the
-- stored event; the gate's events name no subject.
ALTER TABLE outbox RENAME COLUMN seq TO id;
ALTER SEQUENCE outbox_seq RENAME TO outbox_id_seq;
ALTER TABLE outbox ALTER COLUMN id SET DEFAULT nextval('outbox_id_seq');
ALTER TABLE outbox RENAME COLUMN value TO payload;

-- Keys were bytes: a dead letter keeps the key of the record it reports, which a hostile
-- producer may have made invalid UTF-8 (then its escaped form: it only picks a partition).
CREATE FUNCTION pg_temp.key_text(key bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN convert_from(key, 'UTF8');
EXCEPTION WHEN OTHERS THEN
    RETURN encode(key, 'escape');
END $$;
ALTER TABLE outbox RENAME COLUMN key TO message_key;
ALTER TABLE outbox ALTER COLUMN message_key TYPE text USING pg_temp.key_text(message_key);
DROP FUNCTION pg_temp.key_text(bytea);

ALTER TABLE outbox
    ADD COLUMN event_id uuid,
    ADD COLUMN subject_id uuid,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT clock_timestamp();
UPDATE outbox SET event_id = (convert_from(payload, 'UTF8')::jsonb ->> 'event_id')::uuid;
ALTER TABLE outbox ALTER COLUMN event_id SET NOT NULL;

CREATE INDEX IF NOT EXISTS outbox_subject ON outbox (subject_id) WHERE subject_id IS NOT NULL;
