-- The classifier's latest verdict, kept for the user's own listing and its filters (gems,
-- junk by reason). `verdict_at` is the verdict event's time: a stale or redelivered verdict
-- never overwrites a newer one. Erasure clears it with the rest of the row.
ALTER TABLE media
    ADD COLUMN category    text,
    ADD COLUMN is_gem      boolean,
    ADD COLUMN gem_score   real,
    ADD COLUMN reasons     text[],
    ADD COLUMN verdict_at  timestamptz;

CREATE INDEX media_listing_by_verdict ON media (user_key, is_gem, created_at DESC, media_id DESC)
    WHERE state = 'accepted';
