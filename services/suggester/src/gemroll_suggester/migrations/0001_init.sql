-- The suggester's state: classified photos, their events, suggestions, renditions, consent,
-- removed media, and the transactional outbox.

CREATE TABLE consent (
    user_key    text PRIMARY KEY,
    camera_roll boolean NOT NULL,
    ledger_seq  bigint NOT NULL,
    changed_at  timestamptz NOT NULL
);

-- Media deleted or erased: never stored or suggested again, whatever arrives late.
CREATE TABLE removed_media (
    media_id   uuid PRIMARY KEY,
    user_key   text NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    event_id    uuid PRIMARY KEY,
    user_key    text NOT NULL,
    start_at    timestamptz NOT NULL,
    end_at      timestamptz NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    dirty       boolean NOT NULL DEFAULT false,
    due_at      timestamptz,
    lease_until timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    planned_at  timestamptz
);
CREATE INDEX events_due ON events (due_at) WHERE dirty;
CREATE INDEX events_user ON events (user_key);

CREATE TABLE media (
    media_id            uuid PRIMARY KEY,
    user_key            text NOT NULL,
    event_id            uuid REFERENCES events (event_id) ON DELETE SET NULL,
    bucket              text NOT NULL,
    object_key          text NOT NULL,
    width               integer NOT NULL,
    height              integer NOT NULL,
    taken_at            timestamptz NOT NULL,
    coarse_location     text,
    category            text NOT NULL,
    quality_score       real,
    duplicate_group     uuid,
    is_best_in_group    boolean NOT NULL,
    nsfw_score          real,
    face_count          integer,
    embedding           real[],
    gem_score           real NOT NULL,
    is_gem              boolean NOT NULL,
    classified_event_id uuid NOT NULL,
    classified_at       timestamptz NOT NULL,
    unrenderable        boolean NOT NULL DEFAULT false
);
CREATE INDEX media_user_time ON media (user_key, taken_at);
CREATE INDEX media_event ON media (event_id);

CREATE TABLE suggestions (
    suggestion_id      uuid PRIMARY KEY,
    user_key           text NOT NULL,
    event_id           uuid,
    kind               text NOT NULL CHECK (kind IN ('edit', 'highlight', 'collage')),
    revision           integer NOT NULL CHECK (revision >= 1),
    media_ids          uuid[] NOT NULL,
    title              text NOT NULL,
    status             text NOT NULL CHECK (status IN
                           ('proposed', 'edited', 'saved', 'shared', 'dismissed', 'withdrawn')),
    recipe             jsonb,
    preview_object_key text,
    event_start        timestamptz,
    event_end          timestamptz,
    shareable          boolean NOT NULL,
    fingerprint        text NOT NULL,
    stale              boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX suggestions_user_page ON suggestions (user_key, created_at DESC, suggestion_id DESC);
CREATE INDEX suggestions_event ON suggestions (event_id);
CREATE INDEX suggestions_media ON suggestions USING gin (media_ids);

CREATE TABLE suggestion_actions (
    suggestion_id uuid NOT NULL REFERENCES suggestions (suggestion_id) ON DELETE CASCADE,
    action        text NOT NULL,
    acted_at      timestamptz NOT NULL,
    PRIMARY KEY (suggestion_id, action)
);

-- AI-edited renditions, linked to their original.
CREATE TABLE derived_media (
    derived_media_id  uuid PRIMARY KEY,
    user_key          text NOT NULL,
    original_media_id uuid NOT NULL,
    suggestion_id     uuid NOT NULL,
    bucket            text NOT NULL,
    object_key        text NOT NULL,
    recipe            jsonb NOT NULL,
    created_at        timestamptz NOT NULL
);
CREATE INDEX derived_media_original ON derived_media (original_media_id);

-- Events to publish, written in the same transaction as the state they announce.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    message_key text NOT NULL,
    payload     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
