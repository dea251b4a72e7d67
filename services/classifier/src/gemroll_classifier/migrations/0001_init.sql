-- One row per classified media item: the verdict, what near-duplicate search needs
-- (perceptual hash, embedding, group and whether it is the group's current best), and the
-- published events, so a redelivered batch republishes them unchanged.
CREATE TABLE media_results (
    media_id uuid PRIMARY KEY,
    user_key text NOT NULL,
    captured_at timestamptz,
    classified_at timestamptz NOT NULL DEFAULT now(),
    category text NOT NULL,
    gem_score real NOT NULL,
    is_gem boolean NOT NULL,
    quality_score real NOT NULL,
    duplicate_group uuid,
    is_best boolean NOT NULL,
    current_best boolean NOT NULL,
    phash bigint,
    embedding bytea,  -- float32 little-endian, L2-normalised
    reasons text[] NOT NULL,
    classified_event jsonb NOT NULL,
    candidate_event jsonb
);

CREATE INDEX media_results_user_time
    ON media_results (user_key, (coalesce(captured_at, classified_at)) DESC);
CREATE INDEX media_results_group ON media_results (duplicate_group);
