-- The ingest service's schema: media records, presigned uploads, the consent projection and
-- the transactional outbox. Unqualified names: search_path is the service schema.

CREATE TABLE media (
    media_id         uuid PRIMARY KEY,
    user_key         text NOT NULL,
    state            text NOT NULL CHECK (state IN ('storing', 'accepted', 'deleted', 'erased')),
    source           text CHECK (source IN ('direct', 'presigned')),
    object_key       text,
    content_type     text,
    size_bytes       bigint,
    sha256           text,
    width            integer,
    height           integer,
    captured_at      timestamptz,
    camera_make      text,
    camera_model     text,
    orientation      smallint,
    coarse_location  text CHECK (char_length(coarse_location) <= 5),
    device           text,
    album            text,
    -- Exact position: private to this service, never published, dropped on erasure.
    gps_latitude     double precision,
    gps_longitude    double precision,
    gps_altitude_m   double precision,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    accepted_at      timestamptz,
    announced_at     timestamptz,  -- its MediaUploaded left the outbox
    classified_at    timestamptz,
    deleted_at       timestamptz,
    erased_at        timestamptz,
    -- Everything but an erased tombstone carries its content.
    CHECK (state = 'erased' OR (object_key IS NOT NULL AND sha256 IS NOT NULL
           AND content_type IS NOT NULL AND size_bytes > 0 AND width > 0 AND height > 0))
);

-- One live copy of the same bytes per user; reserved before the object is stored.
CREATE UNIQUE INDEX media_live_bytes ON media (user_key, sha256)
    WHERE state IN ('storing', 'accepted');
CREATE INDEX media_listing ON media (user_key, created_at DESC, media_id DESC)
    WHERE state = 'accepted';
CREATE INDEX media_storing ON media (created_at) WHERE state = 'storing';

CREATE TABLE uploads (
    upload_id        uuid PRIMARY KEY,
    user_key         text NOT NULL,
    staging_key      text NOT NULL,
    state            text NOT NULL CHECK (state IN ('pending', 'completed', 'failed', 'expired')),
    metadata         jsonb NOT NULL DEFAULT '{}',
    expires_at       timestamptz NOT NULL,
    media_id         uuid,
    outcome          text,
    staging_present  boolean NOT NULL DEFAULT true,
    -- The staging key was cleared after the presigned URL expired (a late PUT can recreate it).
    swept_at         timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at        timestamptz
);
CREATE INDEX uploads_by_user ON uploads (user_key);
CREATE INDEX uploads_pending ON uploads (expires_at) WHERE state = 'pending';
CREATE INDEX uploads_unswept ON uploads (expires_at) WHERE state <> 'pending' AND swept_at IS NULL;

CREATE TABLE consent (
    user_key          text PRIMARY KEY,
    camera_roll       boolean NOT NULL,
    training_opt_out  boolean NOT NULL,
    ledger_seq        bigint NOT NULL,
    changed_at        timestamptz NOT NULL,
    projected_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    topic         text NOT NULL,
    message_key   text NOT NULL,
    event_id      uuid NOT NULL UNIQUE,
    event_type    text NOT NULL,
    media_id      uuid,
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_media ON outbox (media_id) WHERE media_id IS NOT NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
