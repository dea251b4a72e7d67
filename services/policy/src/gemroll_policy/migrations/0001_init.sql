-- The policy service's schema: consent ledger, gate state, tombstones, outbox, audit chain.

-- Consent: the current state per user, and the append-only ledger of every change.
CREATE TABLE consent_state (
    user_key          text PRIMARY KEY,
    camera_roll       boolean NOT NULL,
    training_opt_out  boolean NOT NULL,
    ledger_seq        integer NOT NULL CHECK (ledger_seq >= 1),
    changed_at        timestamptz NOT NULL,
    erased_through    integer NOT NULL DEFAULT 0   -- last erase request carried out
);

CREATE TABLE consent_ledger (
    user_key          text NOT NULL,
    ledger_seq        integer NOT NULL CHECK (ledger_seq >= 1),
    camera_roll       boolean NOT NULL,
    training_opt_out  boolean NOT NULL,
    erase_data        boolean NOT NULL,
    changed_at        timestamptz NOT NULL,
    event_id          uuid NOT NULL UNIQUE,
    PRIMARY KEY (user_key, ledger_seq)
);

-- Media the gate knows (from candidates and actions), keyed by (user key, media id).
CREATE TABLE media (
    user_key       text NOT NULL,
    media_id       uuid NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    kept           boolean NOT NULL DEFAULT false,   -- saved or shared at some point
    PRIMARY KEY (user_key, media_id)
);
CREATE INDEX media_retention_due ON media (first_seen_at) WHERE NOT kept;

CREATE TABLE actions (
    event_id          uuid PRIMARY KEY,
    arrival           bigserial NOT NULL,
    user_key          text NOT NULL,
    media_id          uuid NOT NULL,
    kind              text NOT NULL,
    acted_at          timestamptz NOT NULL,
    suggestion_id     uuid,
    derived_media_id  uuid
);
CREATE INDEX actions_by_media ON actions (user_key, media_id);

CREATE TABLE candidates (
    candidate_id       uuid PRIMARY KEY,
    user_key           text NOT NULL,
    media_id           uuid NOT NULL,
    source             text NOT NULL,
    bucket             text NOT NULL,
    object_key         text NOT NULL,
    derived_media_id   uuid,
    proposed_at        timestamptz NOT NULL,
    trace_id           text,
    status             text NOT NULL
                       CHECK (status IN ('pending', 'admitted', 'rejected', 'retracted')),
    decided_at         timestamptz,
    basis              text,
    reason             text,
    evidence           uuid[] NOT NULL DEFAULT '{}',
    retracted_at       timestamptz,
    retraction_reason  text,
    -- Never admitted without evidence, whatever the code does.
    CHECK (status NOT IN ('admitted', 'retracted') OR cardinality(evidence) > 0)
);
CREATE INDEX candidates_by_media ON candidates (user_key, media_id);
CREATE INDEX candidates_pending ON candidates (proposed_at) WHERE status = 'pending';

-- What is left of erased media: ids, why and when (no content, no object keys, no user key).
CREATE TABLE tombstones (
    subject        text NOT NULL,
    media_id       uuid NOT NULL,
    reason         text NOT NULL,
    erased_at      timestamptz NOT NULL,
    candidate_ids  uuid[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (subject, media_id)
);

-- Object-store deletions still to do (deleted once done).
CREATE TABLE erasure_jobs (
    job_id      bigserial PRIMARY KEY,
    prefixes    text[] NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text
);

-- Events to publish, in commit order (writers hold the 'policy-outbox' advisory lock).
-- Rows below the watermark committed in Kafka are published and get deleted.
CREATE TABLE outbox (
    seq         bigint PRIMARY KEY,
    topic       text NOT NULL,
    key         bytea NOT NULL,
    value       bytea NOT NULL,
    event_type  text NOT NULL
);
CREATE SEQUENCE outbox_seq OWNED BY outbox.seq;

-- The tamper-evident audit log (see gemroll_policy/domain/audit.py): one record per subject
-- per transaction, hash-chained.
CREATE TABLE audit_log (
    seq          bigint PRIMARY KEY,
    recorded_at  timestamptz NOT NULL,
    subject      text,
    entries      jsonb NOT NULL,
    prev_hash    text NOT NULL,
    row_hash     text NOT NULL
);
CREATE INDEX audit_by_subject ON audit_log (subject, seq);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER consent_ledger_append_only BEFORE UPDATE OR DELETE ON consent_ledger
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER consent_ledger_no_truncate BEFORE TRUNCATE ON consent_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
