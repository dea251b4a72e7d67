-- Tombstones of erased media: the id and when, nothing else (no user key, no content). A
-- classification of a tombstoned id (a late or redelivered MediaUploaded) is never stored
-- nor published.
CREATE TABLE erased_media (
    media_id uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL DEFAULT now()
);
