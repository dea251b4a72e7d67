-- Every object key of an AI rendition, recorded (and committed) before the object is written:
-- erasure deletes by these records, and a sweep deletes objects whose action never committed
-- (no derived_media row refers to them), so no rendition can be left behind unerased.
CREATE TABLE rendition_objects (
    object_key        text PRIMARY KEY,
    bucket            text NOT NULL,
    user_key          text NOT NULL,
    original_media_id uuid NOT NULL,
    derived_media_id  uuid NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rendition_objects_original ON rendition_objects (user_key, original_media_id);
CREATE INDEX rendition_objects_recorded ON rendition_objects (recorded_at);
CREATE INDEX derived_media_object_key ON derived_media (object_key);

-- Renditions written before this table existed: recorded from what was committed.
INSERT INTO rendition_objects (object_key, bucket, user_key, original_media_id, derived_media_id)
SELECT object_key, bucket, user_key, original_media_id, derived_media_id FROM derived_media
ON CONFLICT DO NOTHING;
